#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address, with the zone of a scoped IPv6 address when one was given.
///
/// Text is read with `inet_pton` semantics (`init(_:)`): dotted-quad IPv4 with no leading
/// zeros, any RFC 4291 IPv6 form, an IPv6 address in URL brackets, and an IPv6 zone after
/// `%` (`fe80::1%eth0`; inside brackets the RFC 6874 form `%25eth0` is read too). The zone
/// is kept, because a link-local address cannot be reached without it; it takes part in
/// equality and in `description`, and never in classification. IPv4 `1.2.3.4` and IPv6
/// `::ffff:1.2.3.4` are different values; `mappedIPv4` relates them.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        case v4, v6
    }

    /// The family: `.v4` holds 4 bytes, `.v6` holds 16.
    public let family: Family
    /// The address in network byte order: 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    /// The IPv6 zone (`eth0` in `fe80::1%eth0`), nil when none; always nil for IPv4.
    public let zone: String?

    /// Makes an address from 4 or 16 bytes in network byte order; nil for another count, a zone on IPv4, or a malformed zone.
    public init?(bytes: [UInt8], zone: String? = nil) {
        switch bytes.count {
        case 4:
            guard zone == nil else { return nil }
            family = .v4
        case 16:
            if let zone, !Self.isValidZone(Substring(zone)) { return nil }
            family = .v6
        default:
            return nil
        }
        self.bytes = bytes
        self.zone = zone
    }

    /// Makes an IPv4 address from a C `in_addr` (as in a `sockaddr_in`).
    public init(v4 address: in_addr) {
        family = .v4
        bytes = withUnsafeBytes(of: address) { Array($0.prefix(4)) }
        zone = nil
    }

    /// Makes an IPv6 address, with no zone, from a C `in6_addr` (as in a `sockaddr_in6`).
    public init(v6 address: in6_addr) {
        family = .v6
        bytes = withUnsafeBytes(of: address) { Array($0.prefix(16)) }
        zone = nil
    }

    /// Makes an address from a `sockaddr_in` or `sockaddr_in6` such as getaddrinfo's `ai_addr`; nil for other families.
    ///
    /// The pointer must point at a whole structure of the family it names. A non-zero
    /// IPv6 `sin6_scope_id` becomes a numeric zone (`fe80::1%2`).
    public init?(socketAddress: UnsafePointer<sockaddr>) {
        let raw = UnsafeRawPointer(socketAddress)
        switch Int32(socketAddress.pointee.sa_family) {
        case Int32(AF_INET):
            let v4 = raw.loadUnaligned(as: sockaddr_in.self)
            self.init(v4: v4.sin_addr)
        case Int32(AF_INET6):
            let v6 = raw.loadUnaligned(as: sockaddr_in6.self)
            let bytes = withUnsafeBytes(of: v6.sin6_addr) { Array($0.prefix(16)) }
            self.init(family: .v6, bytes: bytes, zone: v6.sin6_scope_id == 0 ? nil : String(v6.sin6_scope_id))
        default:
            return nil
        }
    }

    /// The canonical text, as `inet_ntop` writes it, followed by `%zone` when there is a zone.
    public var description: String {
        let text = Self.bytesToPresentation(bytes, family: family)
        guard let zone else { return text }
        return text + "%" + zone
    }

    /// True when the first `length` bits equal those of `prefix` (bytes in network order, at least `length` bits long).
    func hasPrefix(_ prefix: [UInt8], length: Int) -> Bool {
        guard length >= 0, length <= bytes.count * 8, length <= prefix.count * 8 else { return false }
        let whole = length / 8
        for index in 0..<whole where bytes[index] != prefix[index] {
            return false
        }
        let rest = length % 8
        guard rest > 0 else { return true }
        let mask = ~(UInt8(0xFF) >> rest)
        return bytes[whole] & mask == prefix[whole] & mask
    }

    // MARK: - Private

    /// Makes an address from parts already checked.
    init(family: Family, bytes: [UInt8], zone: String?) {
        self.family = family
        self.bytes = bytes
        self.zone = zone
    }

    /// Runs inet_ntop; falls back to plain dotted or full hex text should it ever fail.
    private static func bytesToPresentation(_ bytes: [UInt8], family: Family) -> String {
        var output = [CChar](repeating: 0, count: 64)
        let written = bytes.withUnsafeBytes { source in
            output.withUnsafeMutableBufferPointer { target in
                inet_ntop(family == .v4 ? AF_INET : AF_INET6, source.baseAddress, target.baseAddress, socklen_t(target.count))
            }
        }
        if written != nil {
            let utf8 = output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            return String(decoding: utf8, as: UTF8.self)
        }
        switch family {
        case .v4:
            return bytes.map(String.init).joined(separator: ".")
        case .v6:
            return stride(from: 0, to: bytes.count, by: 2)
                .map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
                .joined(separator: ":")
        }
    }
}

/// Why an address is not globally routable.
public enum AddressCategory: String, Sendable, Hashable, CaseIterable {
    /// 0.0.0.0/8 ("this network") and ::.
    case unspecified
    /// 127.0.0.0/8 and ::1.
    case loopback
    /// 10/8, 172.16/12, 192.168/16, local-use NAT64 64:ff9b:1::/48, deprecated site-local fec0::/10.
    case `private` = "private"
    /// 169.254.0.0/16 and fe80::/10.
    case linkLocal = "link-local"
    /// 100.64.0.0/10, carrier-grade NAT.
    case sharedCGNAT = "shared (CGNAT)"
    /// fc00::/7.
    case uniqueLocal = "unique-local"
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    case documentation
    /// 224.0.0.0/4 and ff00::/8.
    case multicast
    /// 255.255.255.255.
    case broadcast
    /// 198.18.0.0/15.
    case benchmarking
    /// Everything else set aside: 240/4, 192.0.0/24, 192.88.99/24, ::/96, 100::/64, 2001::/23, IPv6 outside 2000::/3.
    case reserved
}
