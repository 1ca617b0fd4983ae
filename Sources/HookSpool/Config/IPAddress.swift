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

    /// The canonical text, as `inet_ntop` writes it, followed by `%zone` when there is a zone.
    public var description: String {
        let text = Self.bytesToPresentation(bytes, family: family)
        guard let zone else { return text }
        return text + "%" + zone
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`); nil for any other address.
    public var mappedIPv4: IPAddress? {
        guard family == .v6, hasPrefix(Self.mappedPrefix, length: 96) else { return nil }
        return IPAddress(family: .v4, bytes: Array(bytes[12..<16]), zone: nil)
    }

    /// True when the address is globally routable.
    public var isGlobal: Bool { nonGlobalCategory == nil }

    /// Nil when the address is globally routable; otherwise why it is not.
    ///
    /// Follows the IANA IPv4 and IPv6 special-purpose address registries, more strictly
    /// where they allow a few global exceptions (see `v4Ranges` and `classifyV6`).
    public var nonGlobalCategory: AddressCategory? {
        switch family {
        case .v4: return Self.classifyV4(bytes)
        case .v6: return Self.classifyV6(bytes)
        }
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
    private init(family: Family, bytes: [UInt8], zone: String?) {
        self.family = family
        self.bytes = bytes
        self.zone = zone
    }

    /// ::ffff:0:0, the IPv4-mapped prefix (/96).
    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// True for an RFC 6874 zone: one or more unreserved URI characters.
    private static func isValidZone(_ zone: Substring) -> Bool {
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

    /// One special-purpose range of the IPv4 registry.
    private struct SpecialRange: Sendable {
        let prefix: [UInt8]
        let length: Int
        let category: AddressCategory
    }

    /// The IPv4 special-purpose ranges that are not global, first match wins.
    ///
    /// 192.0.0.0/24 is reserved as a whole, though IANA marks 192.0.0.9 and 192.0.0.10
    /// (PCP and TURN anycast) global: a webhook has no business there.
    private static let v4Ranges: [SpecialRange] = [
        SpecialRange(prefix: [255, 255, 255, 255], length: 32, category: .broadcast),
        SpecialRange(prefix: [0, 0, 0, 0], length: 8, category: .unspecified),
        SpecialRange(prefix: [10, 0, 0, 0], length: 8, category: .private),
        SpecialRange(prefix: [100, 64, 0, 0], length: 10, category: .sharedCGNAT),
        SpecialRange(prefix: [127, 0, 0, 0], length: 8, category: .loopback),
        SpecialRange(prefix: [169, 254, 0, 0], length: 16, category: .linkLocal),
        SpecialRange(prefix: [172, 16, 0, 0], length: 12, category: .private),
        SpecialRange(prefix: [192, 0, 0, 0], length: 24, category: .reserved),
        SpecialRange(prefix: [192, 0, 2, 0], length: 24, category: .documentation),
        SpecialRange(prefix: [192, 88, 99, 0], length: 24, category: .reserved),
        SpecialRange(prefix: [192, 168, 0, 0], length: 16, category: .private),
        SpecialRange(prefix: [198, 18, 0, 0], length: 15, category: .benchmarking),
        SpecialRange(prefix: [198, 51, 100, 0], length: 24, category: .documentation),
        SpecialRange(prefix: [203, 0, 113, 0], length: 24, category: .documentation),
        SpecialRange(prefix: [224, 0, 0, 0], length: 4, category: .multicast),
        SpecialRange(prefix: [240, 0, 0, 0], length: 4, category: .reserved),
    ]

    /// The IPv6 special-purpose ranges whose category does not depend on an embedded IPv4 address.
    ///
    /// 2001::/23 (IETF protocol assignments: Teredo, ORCHIDv2, AMT, ...) is reserved as a
    /// whole, though IANA marks a few of its blocks global. Ranges are checked after ::,
    /// ::1, the IPv4-mapped and NAT64 /96s and before 6to4; first match wins.
    private static let v6Ranges: [SpecialRange] = [
        SpecialRange(prefix: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], length: 96, category: .reserved),  // IPv4-compatible
        SpecialRange(prefix: [0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01], length: 48, category: .private),  // local-use NAT64
        SpecialRange(prefix: [0x01, 0x00, 0, 0, 0, 0, 0, 0], length: 64, category: .reserved),  // discard-only
        SpecialRange(prefix: [0x20, 0x01, 0x0D, 0xB8], length: 32, category: .documentation),
        SpecialRange(prefix: [0x3F, 0xFF, 0x00], length: 20, category: .documentation),
        SpecialRange(prefix: [0x20, 0x01, 0x00], length: 23, category: .reserved),  // IETF protocol assignments
        SpecialRange(prefix: [0xFC], length: 7, category: .uniqueLocal),
        SpecialRange(prefix: [0xFE, 0x80], length: 10, category: .linkLocal),
        SpecialRange(prefix: [0xFE, 0xC0], length: 10, category: .private),  // site-local, deprecated
        SpecialRange(prefix: [0xFF], length: 8, category: .multicast),
    ]

    /// 64:ff9b::/96, the well-known NAT64 prefix.
    private static let nat64Prefix: [UInt8] = [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]

    /// Classifies 4 IPv4 bytes.
    private static func classifyV4(_ bytes: [UInt8]) -> AddressCategory? {
        let address = IPAddress(family: .v4, bytes: bytes, zone: nil)
        return v4Ranges.first { address.hasPrefix($0.prefix, length: $0.length) }?.category
    }

    /// Classifies 16 IPv6 bytes; the mapped, NAT64 and 6to4 forms take the category of the IPv4 address inside.
    private static func classifyV6(_ bytes: [UInt8]) -> AddressCategory? {
        let address = IPAddress(family: .v6, bytes: bytes, zone: nil)
        if bytes.allSatisfy({ $0 == 0 }) { return .unspecified }
        if bytes.dropLast().allSatisfy({ $0 == 0 }), bytes[15] == 1 { return .loopback }
        if address.hasPrefix(mappedPrefix, length: 96) || address.hasPrefix(nat64Prefix, length: 96) {
            return classifyV4(Array(bytes[12..<16]))
        }
        if let range = v6Ranges.first(where: { address.hasPrefix($0.prefix, length: $0.length) }) {
            return range.category
        }
        if address.hasPrefix([0x20, 0x02], length: 16) {  // 6to4: 2002:AABB:CCDD::/48 carries A.B.C.D
            return classifyV4(Array(bytes[2..<6]))
        }
        if !address.hasPrefix([0x20], length: 3) { return .reserved }  // outside 2000::/3, global unicast
        return nil
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
