// Classifies an address by the IANA special-purpose registries: globally routable, or why not.
extension IPAddress {
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

    /// ::ffff:0:0, the IPv4-mapped prefix (/96).
    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

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
