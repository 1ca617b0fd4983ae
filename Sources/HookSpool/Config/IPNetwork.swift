/// An address prefix such as 10.0.0.0/8 or 2001:db8::/32.
///
/// Text is `ADDRESS/LENGTH` or a bare address (a /32 or /128). Host bits that are set
/// (`10.0.0.1/8`) are accepted and cleared, so that network reads back as `10.0.0.0/8`.
/// An IPv4 network also contains the IPv4-mapped IPv6 form of its addresses
/// (`::ffff:10.0.0.1` is in 10.0.0.0/8); an IPv6 network never contains an IPv4 address.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the network: host bits cleared, no zone.
    public let address: IPAddress
    /// How many leading bits are fixed: 0...32 for IPv4, 0...128 for IPv6.
    public let prefixLength: Int

    /// The family of the network's addresses.
    public var family: IPAddress.Family { address.family }

    /// Makes the network of `prefixLength` bits around `address`, clearing host bits and the zone; nil when the length is out of range.
    public init?(address: IPAddress, prefixLength: Int) {
        guard prefixLength >= 0, prefixLength <= address.bytes.count * 8 else { return nil }
        let masked = address.bytes.enumerated().map { index, byte in
            let bits = min(max(prefixLength - index * 8, 0), 8)
            return byte & ~(UInt8(0xFF) >> bits)
        }
        guard let network = IPAddress(bytes: masked) else { return nil }
        self.address = network
        self.prefixLength = prefixLength
    }

    /// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address; nil for a zone, a length out of range, or garbage.
    ///
    /// The length is plain decimal digits with no sign and no leading zero (`/08` is refused).
    public init?(_ text: String) {
        let pieces = text.split(separator: "/", omittingEmptySubsequences: false)
        guard pieces.count == 1 || pieces.count == 2,
            let address = IPAddress(String(pieces[0])), address.zone == nil
        else { return nil }
        var length = address.bytes.count * 8
        if pieces.count == 2 {
            let digits = pieces[1]
            guard !digits.isEmpty, digits.count <= 3,
                digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                digits == "0" || !digits.hasPrefix("0"),
                let parsed = Int(digits)
            else { return nil }
            length = parsed
        }
        self.init(address: address, prefixLength: length)
    }

    /// The network as `ADDRESS/LENGTH`.
    public var description: String { "\(address)/\(prefixLength)" }

    /// True when `address` lies in the network; an IPv4-mapped IPv6 address is matched as its IPv4 address.
    public func contains(_ candidate: IPAddress) -> Bool {
        switch (family, candidate.family) {
        case (.v4, .v4), (.v6, .v6):
            return candidate.hasPrefix(address.bytes, length: prefixLength)
        case (.v4, .v6):
            guard let inner = candidate.mappedIPv4 else { return false }
            return inner.hasPrefix(address.bytes, length: prefixLength)
        case (.v6, .v4):
            return false
        }
    }
}
