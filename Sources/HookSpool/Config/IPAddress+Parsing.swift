#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Reads an address from text: inet_pton forms with an optional IPv6 zone, and URL hosts (inet_aton forms too).
extension IPAddress {
    /// Parses `1.2.3.4`, `::1`, `[::1]`, `fe80::1%eth0` or `[fe80::1%25eth0]` with inet_pton rules; nil for anything else.
    public init?(_ text: String) {
        // Only printable ASCII without spaces: also keeps an embedded NUL from cutting the C string short.
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        var body = Substring(text)
        let bracketed = body.hasPrefix("[")
        if bracketed {
            guard body.count >= 2, body.hasSuffix("]") else { return nil }
            body = body.dropFirst().dropLast()
        }
        guard !body.contains("["), !body.contains("]") else { return nil }

        var zone: Substring?
        if let percent = body.firstIndex(of: "%") {
            var zoneText = body[body.index(after: percent)...]
            if bracketed, zoneText.hasPrefix("25"), zoneText.count > 2 {
                zoneText = zoneText.dropFirst(2)  // RFC 6874: "%" is written "%25" inside a URL
            }
            guard Self.isValidZone(zoneText) else { return nil }
            zone = zoneText
            body = body[..<percent]
        }

        if !bracketed, zone == nil, let v4 = Self.presentationToBytes(String(body), family: AF_INET, count: 4) {
            self.init(family: .v4, bytes: v4, zone: nil)
            return
        }
        guard let v6 = Self.presentationToBytes(String(body), family: AF_INET6, count: 16) else { return nil }
        self.init(family: .v6, bytes: v6, zone: zone.map(String.init))
    }

    /// Reads the host of a URL as a literal address; nil when the host is a name (or is not a well-formed literal).
    ///
    /// `[v6]`, and a bare IPv6 address (as `URLComponents.percentEncodedHost` and `URL.host`
    /// give it, brackets removed), are read as by `init(_:)` inside brackets, so the zone may
    /// be written `%25eth0` or `%eth0`. Any other host is read as IPv4 the way `inet_aton`
    /// reads it (and so glibc's getaddrinfo, and the WHATWG URL standard): one to four
    /// dot-separated parts, each decimal, octal (leading `0`) or
    /// hex (`0x`), the last filling the remaining bytes. So `127.1`, `0x7f.0.0.1`,
    /// `0177.0.0.1` and `2130706433` are all 127.0.0.1, not names. Two WHATWG additions
    /// make the set wider than inet_aton's, never narrower: one trailing dot (`127.0.0.1.`)
    /// and an empty hex part (`0x` is 0). A host with any other character (non-ASCII
    /// included) is a name; whatever it resolves to is checked after resolution.
    public init?(urlHost host: String) {
        if host.hasPrefix("[") || host.contains(":") {
            // A URL's host is percent-encoded, with or without its brackets: read the zone as inside brackets.
            guard let address = IPAddress(host.hasPrefix("[") ? host : "[" + host + "]") else { return nil }
            self = address
            return
        }
        guard let v4 = Self.inetAtonBytes(host) else { return nil }
        self.init(family: .v4, bytes: v4, zone: nil)
    }

    /// True for an RFC 6874 zone: one or more unreserved URI characters.
    static func isValidZone(_ zone: Substring) -> Bool {
        !zone.isEmpty && zone.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                return true
            default:
                return false
            }
        }
    }

    /// Runs inet_pton for one family; the bytes, or nil when it refuses the text.
    private static func presentationToBytes(_ text: String, family: Int32, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let result = text.withCString { cText in
            buffer.withUnsafeMutableBytes { inet_pton(family, cText, $0.baseAddress) }
        }
        guard result == 1 else { return nil }
        return Array(buffer.prefix(count))
    }

    /// Reads a host the way inet_aton does (plus WHATWG's trailing dot and empty hex part); 4 bytes, or nil.
    private static func inetAtonBytes(_ host: String) -> [UInt8]? {
        var text = Substring(host)
        if text.hasSuffix(".") { text = text.dropLast() }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt32] = []
        for part in parts {
            guard let value = inetAtonNumber(part) else { return nil }
            values.append(value)
        }
        let leading = values.dropLast()
        guard let last = values.last, leading.allSatisfy({ $0 <= 0xFF }) else { return nil }
        let lastWidth = 5 - values.count  // bytes the last part fills
        guard lastWidth == 4 || last < (UInt32(1) << (8 * lastWidth)) else { return nil }
        var result = leading.map { UInt8($0) }
        for shift in stride(from: 8 * (lastWidth - 1), through: 0, by: -8) {
            result.append(UInt8(truncatingIfNeeded: last >> shift))
        }
        return result
    }

    /// One inet_aton part: decimal, octal after a leading `0`, hex after `0x`; nil when malformed or above 2^32-1.
    private static func inetAtonNumber(_ part: Substring) -> UInt32? {
        var digits = Array(part.utf8)
        guard !digits.isEmpty else { return nil }
        var radix: UInt64 = 10
        if digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
            radix = 16
            digits.removeFirst(2)
        } else if digits.count >= 2, digits[0] == UInt8(ascii: "0") {
            radix = 8
            digits.removeFirst()
        }
        var value: UInt64 = 0
        for byte in digits {
            let digit: UInt64
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt64(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt64(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt64(byte - UInt8(ascii: "A")) + 10
            default: return nil
            }
            guard digit < radix else { return nil }
            value = value * radix + digit
            guard value <= UInt64(UInt32.max) else { return nil }
        }
        return UInt32(value)
    }
}
