#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

@testable import HookSpool

// MARK: - Parsing and text

@Suite("IPAddress parsing")
struct IPAddressParsingTests {
    @Test(
        "Valid text parses to its family and canonical text",
        arguments: [
            ("1.2.3.4", IPAddress.Family.v4, "1.2.3.4"),
            ("0.0.0.0", .v4, "0.0.0.0"),
            ("255.255.255.255", .v4, "255.255.255.255"),
            ("::", .v6, "::"),
            ("::1", .v6, "::1"),
            ("[::1]", .v6, "::1"),
            ("0:0:0:0:0:0:0:1", .v6, "::1"),
            ("2001:0DB8:0000:0000:0000:0000:0000:0001", .v6, "2001:db8::1"),
            ("2001:db8:0:0:1:0:0:1", .v6, "2001:db8::1:0:0:1"),
            ("2001:0:0:1:0:0:0:1", .v6, "2001:0:0:1::1"),
            ("1:0:0:0:0:0:0:0", .v6, "1::"),
            ("::FFFF:10.0.0.1", .v6, "::ffff:10.0.0.1"),
            ("::ffff:a00:1", .v6, "::ffff:10.0.0.1"),
            ("2606:4700:4700::1111", .v6, "2606:4700:4700::1111"),
            ("[2a00:1450:4001:80b::200e]", .v6, "2a00:1450:4001:80b::200e"),
            ("fe80::1%eth0", .v6, "fe80::1%eth0"),
            ("[fe80::1%25eth0]", .v6, "fe80::1%eth0"),
            ("[fe80::1%eth0]", .v6, "fe80::1%eth0"),
            ("fe80::1%3", .v6, "fe80::1%3"),
        ] as [(String, IPAddress.Family, String)]
    )
    func valid(text: String, family: IPAddress.Family, canonical: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == family)
        #expect(address.bytes.count == (family == .v4 ? 4 : 16))
        #expect(address.description == canonical)
        #expect(IPAddress(canonical) == address)
    }

    @Test(
        "Invalid text is refused",
        arguments: [
            "", " ", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.-4",
            " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\0", "1.2.3.4\u{0}junk", "1.2.3.4/32", "1.2.3.4:80",
            "::1::", ":::1", "12345::", "1:2:3:4:5:6:7:8:9", "::g", "abc", "example.com",
            "[1.2.3.4]", "[::1", "::1]", "[[::1]]", "[]", "[::1]:80", "::1%", "fe80::1%%", "fe80::1%%25",
            "fe80::1%eth 0", "fe80::1%eth/0", "1.2.3.4%eth0", "[fe80::1%]",
            "127.1", "0x7f.0.0.1", "2130706433", "0177.0.0.1", "１.２.３.４", "::١",
        ]
    )
    func invalid(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("The zone is kept apart from the address, and is part of equality")
    func zone() throws {
        let scoped = try #require(IPAddress("fe80::1%eth0"))
        let plain = try #require(IPAddress("fe80::1"))
        #expect(scoped.zone == "eth0")
        #expect(plain.zone == nil)
        #expect(scoped.bytes == plain.bytes)
        #expect(scoped != plain)
        #expect(try #require(IPAddress("[fe80::1%25en0]")).zone == "en0")
        #expect(try #require(IPAddress("[fe80::1%25]")).zone == "25")
        #expect(scoped.nonGlobalCategory == .linkLocal)
    }

    @Test("Equal addresses in different spellings are equal and hash alike")
    func equality() throws {
        let a = try #require(IPAddress("2001:db8::1"))
        let b = try #require(IPAddress("2001:0db8:0:0:0:0:0:1"))
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        let v4 = try #require(IPAddress("10.0.0.1"))
        let mapped = try #require(IPAddress("::ffff:10.0.0.1"))
        #expect(v4 != mapped)
        #expect(mapped.mappedIPv4 == v4)
        #expect(v4.mappedIPv4 == nil)
        #expect(try #require(IPAddress("64:ff9b::10.0.0.1")).mappedIPv4 == nil)
        #expect(try #require(IPAddress("::fffe:10.0.0.1")).mappedIPv4 == nil)
    }

    @Test("Bytes are in network order")
    func bytesOrder() throws {
        #expect(try #require(IPAddress("1.2.3.4")).bytes == [1, 2, 3, 4])
        #expect(
            try #require(IPAddress("2001:db8::ff01")).bytes
                == [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0x01])
    }

    @Test("init(bytes:) takes 4 or 16 bytes, and a valid zone only on IPv6")
    func fromBytes() throws {
        #expect(try #require(IPAddress(bytes: [192, 0, 2, 1])).description == "192.0.2.1")
        #expect(try #require(IPAddress(bytes: [UInt8](repeating: 0, count: 15) + [1])).description == "::1")
        #expect(try #require(IPAddress(bytes: [0xFE, 0x80] + [UInt8](repeating: 0, count: 13) + [1], zone: "lo")).description == "fe80::1%lo")
        #expect(IPAddress(bytes: []) == nil)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: [1, 2, 3, 4, 5]) == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 17)) == nil)
        #expect(IPAddress(bytes: [1, 2, 3, 4], zone: "eth0") == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 16), zone: "") == nil)
        #expect(IPAddress(bytes: [UInt8](repeating: 0, count: 16), zone: "a b") == nil)
    }
}

// MARK: - C structures

@Suite("IPAddress from C structures")
struct IPAddressSocketTests {
    @Test("in_addr and in6_addr")
    func cAddresses() throws {
        var v4 = in_addr()
        #expect("192.168.1.20".withCString { inet_pton(AF_INET, $0, &v4) } == 1)
        #expect(IPAddress(v4: v4) == IPAddress("192.168.1.20"))
        var v6 = in6_addr()
        #expect("2001:db8::42".withCString { inet_pton(AF_INET6, $0, &v6) } == 1)
        #expect(IPAddress(v6: v6) == IPAddress("2001:db8::42"))
        #expect(IPAddress(v6: v6).zone == nil)
    }

    @Test("sockaddr from getaddrinfo, numeric hosts", arguments: ["127.0.0.1", "10.20.30.40", "::1", "2001:db8::7", "::ffff:8.8.8.8"])
    func getaddrinfoResults(host: String) throws {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_family = AF_UNSPEC
        var result: UnsafeMutablePointer<addrinfo>?
        #expect(getaddrinfo(host, nil, &hints, &result) == 0)
        defer { if let result { freeaddrinfo(result) } }
        let first = try #require(result)
        let socketAddress = try #require(first.pointee.ai_addr)
        let address = try #require(IPAddress(socketAddress: socketAddress))
        #expect(address == IPAddress(host))
    }

    @Test("sockaddr_in6 scope id becomes a numeric zone; other families are refused")
    func scopeAndFamily() throws {
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        #expect("fe80::1".withCString { inet_pton(AF_INET6, $0, &v6.sin6_addr) } == 1)
        v6.sin6_scope_id = 7
        let scoped = withUnsafePointer(to: &v6) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { IPAddress(socketAddress: $0) }
        }
        #expect(scoped?.description == "fe80::1%7")
        #expect(scoped?.zone == "7")
        #expect(scoped == IPAddress("fe80::1%7"))

        var unix = sockaddr_storage()
        unix.ss_family = sa_family_t(AF_UNIX)
        let refused = withUnsafePointer(to: &unix) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { IPAddress(socketAddress: $0) }
        }
        #expect(refused == nil)

        var v4 = sockaddr_in()
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_addr.s_addr = UInt32(0x0A00_0001).bigEndian
        let plain = withUnsafePointer(to: &v4) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { IPAddress(socketAddress: $0) }
        }
        #expect(plain?.description == "10.0.0.1")
    }
}

// MARK: - Classification

@Suite("IPAddress classification")
struct IPAddressClassificationTests {
    /// Each range at its first and last address, and the neighbours just outside.
    static let v4Cases: [(String, AddressCategory?)] = [
        ("0.0.0.0", .unspecified), ("0.255.255.255", .unspecified), ("1.0.0.0", nil),
        ("9.255.255.255", nil), ("10.0.0.0", .private), ("10.255.255.255", .private), ("11.0.0.0", nil),
        ("100.63.255.255", nil), ("100.64.0.0", .sharedCGNAT), ("100.127.255.255", .sharedCGNAT), ("100.128.0.0", nil),
        ("126.255.255.255", nil), ("127.0.0.0", .loopback), ("127.0.0.1", .loopback),
        ("127.255.255.255", .loopback), ("128.0.0.0", nil),
        ("169.253.255.255", nil), ("169.254.0.0", .linkLocal), ("169.254.255.255", .linkLocal), ("169.255.0.0", nil),
        ("172.15.255.255", nil), ("172.16.0.0", .private), ("172.31.255.255", .private), ("172.32.0.0", nil),
        ("191.255.255.255", nil), ("192.0.0.0", .reserved), ("192.0.0.255", .reserved), ("192.0.1.0", nil),
        ("192.0.1.255", nil), ("192.0.2.0", .documentation), ("192.0.2.255", .documentation), ("192.0.3.0", nil),
        ("192.88.98.255", nil), ("192.88.99.0", .reserved), ("192.88.99.255", .reserved), ("192.88.100.0", nil),
        ("192.167.255.255", nil), ("192.168.0.0", .private), ("192.168.255.255", .private), ("192.169.0.0", nil),
        ("198.17.255.255", nil), ("198.18.0.0", .benchmarking), ("198.19.255.255", .benchmarking), ("198.20.0.0", nil),
        ("198.51.99.255", nil), ("198.51.100.0", .documentation), ("198.51.100.255", .documentation),
        ("198.51.101.0", nil),
        ("203.0.112.255", nil), ("203.0.113.0", .documentation), ("203.0.113.255", .documentation),
        ("203.0.114.0", nil),
        ("223.255.255.255", nil), ("224.0.0.0", .multicast), ("239.255.255.255", .multicast),
        ("240.0.0.0", .reserved), ("255.255.255.254", .reserved), ("255.255.255.255", .broadcast),
    ]

    static let v6Cases: [(String, AddressCategory?)] = [
        ("::", .unspecified), ("::1", .loopback),
        // ::/96 IPv4-compatible, deprecated; just past it is still outside 2000::/3.
        ("::2", .reserved), ("::ffff:ffff", .reserved), ("::1:0:0", .reserved),
        // ::ffff:0:0/96 IPv4-mapped: the embedded IPv4 address decides.
        ("::fffe:ffff:ffff", .reserved), ("::ffff:0.0.0.0", .unspecified), ("::ffff:8.8.8.8", nil),
        ("::ffff:10.0.0.1", .private), ("::ffff:127.0.0.1", .loopback), ("::ffff:169.254.1.1", .linkLocal),
        ("::ffff:100.64.0.1", .sharedCGNAT), ("::ffff:255.255.255.255", .broadcast), ("::1:0:0:0", .reserved),
        // 64:ff9b::/96 NAT64: the embedded IPv4 address decides.
        ("64:ff9b::", .unspecified), ("64:ff9b::8.8.8.8", nil), ("64:ff9b::10.0.0.1", .private),
        ("64:ff9b::127.0.0.1", .loopback), ("64:ff9b::ffff:ffff", .broadcast), ("64:ff9b::1:0:0", .reserved),
        ("64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", .reserved),
        // 64:ff9b:1::/48 local-use NAT64.
        ("64:ff9b:0:ffff:ffff:ffff:ffff:ffff", .reserved), ("64:ff9b:1::", .private),
        ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", .private), ("64:ff9b:2::", .reserved),
        // 100::/64 discard-only.
        ("ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .reserved), ("100::", .reserved),
        ("100::ffff:ffff:ffff:ffff", .reserved), ("100:0:0:1::", .reserved),
        // 2000::/3 is where global unicast lives.
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .reserved), ("2000::", nil),
        ("2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil),
        ("4000::", .reserved), ("5f00::1", .reserved),
        // 2001::/23 IETF protocol assignments, all reserved (Teredo 2001::/32 included).
        ("2001::", .reserved), ("2001::1", .reserved), ("2001:0:4136:e378:8000:63bf:3fff:fdd2", .reserved),
        ("2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", .reserved), ("2001:200::", nil),
        // 2001:db8::/32 documentation.
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("2001:db8::", .documentation),
        ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", .documentation), ("2001:db9::", nil),
        // 2002::/16 6to4: the IPv4 address in bytes 2...5 decides.
        ("2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("2002::", .unspecified), ("2002:808:808::", nil),
        ("2002:7f00:1::", .loopback), ("2002:c0a8:101::1", .private), ("2002:a9fe::", .linkLocal),
        ("2002:c000:201::", .documentation), ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .broadcast),
        ("2003::", nil),
        // 3fff::/20 documentation.
        ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", nil), ("3fff::", .documentation),
        ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", .documentation), ("3fff:1000::", nil),
        // fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast.
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .reserved), ("fc00::", .uniqueLocal),
        ("fd12:3456:789a::1", .uniqueLocal), ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .uniqueLocal),
        ("fe00::", .reserved), ("fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .reserved),
        ("fe80::", .linkLocal), ("fe80::1%eth0", .linkLocal), ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .linkLocal),
        ("fec0::", .private), ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .private),
        ("ff00::", .multicast), ("ff02::1", .multicast), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", .multicast),
    ]

    @Test("IPv4 special-purpose ranges, edges included", arguments: v4Cases)
    func v4(text: String, expected: AddressCategory?) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .v4)
        #expect(address.nonGlobalCategory == expected)
        #expect(address.isGlobal == (expected == nil))
    }

    @Test("IPv6 special-purpose ranges, edges included", arguments: v6Cases)
    func v6(text: String, expected: AddressCategory?) throws {
        let address = try #require(IPAddress(text))
        #expect(address.family == .v6)
        #expect(address.nonGlobalCategory == expected)
        #expect(address.isGlobal == (expected == nil))
    }

    @Test(
        "Well-known public addresses are global",
        arguments: ["8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]
    )
    func global(text: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.nonGlobalCategory == nil)
        #expect(address.isGlobal)
    }

    @Test("Every IPv4 category, mapped to IPv6, keeps its category")
    func mappedMatchesV4() throws {
        for (text, expected) in Self.v4Cases {
            let mapped = try #require(IPAddress("::ffff:" + text))
            #expect(mapped.nonGlobalCategory == expected, "::ffff:\(text)")
            let nat64 = try #require(IPAddress("64:ff9b::" + text))
            #expect(nat64.nonGlobalCategory == expected, "64:ff9b::\(text)")
        }
    }

    @Test("Category names read as the config error will print them")
    func names() {
        #expect(AddressCategory.private.rawValue == "private")
        #expect(AddressCategory.linkLocal.rawValue == "link-local")
        #expect(AddressCategory.sharedCGNAT.rawValue == "shared (CGNAT)")
        #expect(AddressCategory.uniqueLocal.rawValue == "unique-local")
        #expect(AddressCategory.allCases.count == 11)
    }
}

// MARK: - URL hosts

@Suite("IPAddress from a URL host")
struct IPAddressURLHostTests {
    @Test(
        "Literal hosts, inet_aton forms included",
        arguments: [
            ("[::1]", "::1"), ("::1", "::1"), ("[fe80::1%25eth0]", "fe80::1%eth0"),
            ("[fe80::1%eth0]", "fe80::1%eth0"), ("fe80::1%eth0", "fe80::1%eth0"), ("fe80::1%25eth0", "fe80::1%eth0"), ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
            ("[2001:db8::1]", "2001:db8::1"), ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
            ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"),
            ("0x7f.0.0.1", "127.0.0.1"), ("0X7F.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"),
            ("2130706433", "127.0.0.1"), ("017700000001", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
            ("0177.0000.0.01", "127.0.0.1"), ("00000000000000000000000000000127.1", "87.0.0.1"),
            ("127.0.0.1.", "127.0.0.1"), ("10.1", "10.0.0.1"), ("1.0x10.0.1", "1.16.0.1"),
            ("1.2.65535", "1.2.255.255"), ("1.16777215", "1.255.255.255"), ("0", "0.0.0.0"),
            ("0x", "0.0.0.0"), ("0x.0.0.1", "0.0.0.1"), ("4294967295", "255.255.255.255"),
            ("0xffffffff", "255.255.255.255"), ("0xFfFfFfFf", "255.255.255.255"),
            ("01.2.3.4", "1.2.3.4"), ("192.168.0.1", "192.168.0.1"), ("0xa9fea9fe", "169.254.169.254"),
        ] as [(String, String)]
    )
    func literal(host: String, canonical: String) throws {
        let address = try #require(IPAddress(urlHost: host))
        #expect(address.description == canonical)
    }

    @Test(
        "Names, and hosts no resolver reads as an address",
        arguments: [
            "example.com", "localhost", "cafe.be", "dead.beef", "0xdead.beef", "a", "1.2.3.4.5",
            "4294967296", "0x100000000", "99999999999999999999", "256.0.0.1", "1.256.0.1", "1.2.65536",
            "1.16777216", "08.0.0.1", "0o7.0.0.1", "1..2", ".1.2.3", "127.0.0.1..", ".", "", "0x0x1",
            "127.0.0.1 ", " 127.0.0.1", "127.0.0.1%eth0", "１２７.０.０.１", "[zz]", "[", "[1.2.3.4]",
            "7f.0.0.1", "-1", "+1", "1e3",
        ]
    )
    func name(host: String) {
        #expect(IPAddress(urlHost: host) == nil)
    }

    @Test("The sneaky loopback and metadata spellings classify as such")
    func sneaky() {
        #expect(IPAddress(urlHost: "2130706433")?.nonGlobalCategory == .loopback)
        #expect(IPAddress(urlHost: "0x7f.1")?.nonGlobalCategory == .loopback)
        #expect(IPAddress(urlHost: "0")?.nonGlobalCategory == .unspecified)
        #expect(IPAddress(urlHost: "2852039166")?.nonGlobalCategory == .linkLocal)
        #expect(IPAddress(urlHost: "[::ffff:7f00:1]")?.nonGlobalCategory == .loopback)
        #expect(IPAddress(urlHost: "8.8.8.8")?.nonGlobalCategory == nil)
    }

    #if os(Linux)
    /// The hosts glibc's inet_aton accepts are all literals here, with the same value.
    @Test("Agrees with glibc inet_aton on generated hosts")
    func agreesWithInetAton() {
        let alphabet = Array("0123456789.xXabfAF".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var accepted = 0
        for _ in 0..<20_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 60) + 1
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            let host = String(decoding: bytes, as: UTF8.self)
            var expected = in_addr()
            let glibc = host.withCString { inet_aton($0, &expected) } != 0
            let ours = IPAddress(urlHost: host)
            if glibc {
                accepted += 1
                #expect(ours == IPAddress(v4: expected), "\(host)")
            } else if ours != nil {
                // Only WHATWG's additions may go beyond inet_aton: a trailing dot, an empty hex part.
                let parts = host.split(separator: ".", omittingEmptySubsequences: false)
                let whatwg = host.hasSuffix(".") || parts.contains { $0.lowercased() == "0x" }
                #expect(whatwg, "\(host)")
            }
        }
        #expect(accepted > 500)
    }
    #endif
}

// MARK: - Networks

@Suite("IPNetwork")
struct IPNetworkTests {
    @Test(
        "Valid prefixes parse; host bits are cleared",
        arguments: [
            ("10.0.0.0/8", "10.0.0.0/8", 8), ("10.0.0.1/8", "10.0.0.0/8", 8), ("10.1.2.3", "10.1.2.3/32", 32),
            ("0.0.0.0/0", "0.0.0.0/0", 0), ("255.255.255.255/0", "0.0.0.0/0", 0), ("172.31.5.5/12", "172.16.0.0/12", 12),
            ("192.168.1.77/32", "192.168.1.77/32", 32), ("100.127.1.1/10", "100.64.0.0/10", 10),
            ("2001:db8::/32", "2001:db8::/32", 32), ("2001:db8:1::5/32", "2001:db8::/32", 32),
            ("2001:db8::1", "2001:db8::1/128", 128), ("::/0", "::/0", 0), ("ffff::1/0", "::/0", 0),
            ("2001:db8::ffff/127", "2001:db8::fffe/127", 127), ("2001:1ff::/23", "2001::/23", 23),
            ("fe80::1234/10", "fe80::/10", 10), ("::ffff:10.9.8.7/104", "::ffff:10.0.0.0/104", 104),
            ("[2001:db8::]/48", "2001:db8::/48", 48),
        ] as [(String, String, Int)]
    )
    func valid(text: String, canonical: String, length: Int) throws {
        let network = try #require(IPNetwork(text))
        #expect(network.description == canonical)
        #expect(network.prefixLength == length)
        #expect(IPNetwork(canonical) == network)
    }

    @Test(
        "Invalid prefixes are refused",
        arguments: [
            "", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
            "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0.0/8/8", "10.0.0.0/x", "10.0.0.0/1000", "::/129",
            "::/1000000000000000000000", "garbage/8", "10.0.0/8", "10/8", "fe80::%eth0/64", "fe80::1%eth0",
            "10.0.0.0/8.0", "::/064",
        ]
    )
    func invalid(text: String) {
        #expect(IPNetwork(text) == nil)
    }

    @Test("init(address:prefixLength:) bounds the length and drops the zone")
    func memberwise() throws {
        let v4 = try #require(IPAddress("10.1.2.3"))
        #expect(IPNetwork(address: v4, prefixLength: 33) == nil)
        #expect(IPNetwork(address: v4, prefixLength: -1) == nil)
        #expect(IPNetwork(address: v4, prefixLength: 16)?.description == "10.1.0.0/16")
        let scoped = try #require(IPAddress("fe80::1%eth0"))
        #expect(IPNetwork(address: scoped, prefixLength: 129) == nil)
        #expect(IPNetwork(address: scoped, prefixLength: 64)?.description == "fe80::/64")
        #expect(IPNetwork(address: scoped, prefixLength: 64)?.address.zone == nil)
        #expect(IPNetwork(address: scoped, prefixLength: 64)?.family == .v6)
    }

    @Test(
        "contains: first, last, and just outside",
        arguments: [
            ("10.0.0.0/8", "10.0.0.0", true), ("10.0.0.0/8", "10.255.255.255", true),
            ("10.0.0.0/8", "9.255.255.255", false), ("10.0.0.0/8", "11.0.0.0", false),
            ("172.16.0.0/12", "172.16.0.0", true), ("172.16.0.0/12", "172.31.255.255", true),
            ("172.16.0.0/12", "172.15.255.255", false), ("172.16.0.0/12", "172.32.0.0", false),
            ("100.64.0.0/10", "100.127.255.255", true), ("100.64.0.0/10", "100.128.0.0", false),
            ("192.168.1.77/32", "192.168.1.77", true), ("192.168.1.77/32", "192.168.1.76", false),
            ("192.168.1.77/32", "192.168.1.78", false), ("192.168.1.77/31", "192.168.1.76", true),
            ("0.0.0.0/0", "0.0.0.0", true), ("0.0.0.0/0", "255.255.255.255", true),
            ("0.0.0.0/0", "::", false), ("0.0.0.0/0", "::1", false), ("0.0.0.0/0", "::ffff:1.2.3.4", true),
            ("128.0.0.0/1", "127.255.255.255", false), ("128.0.0.0/1", "128.0.0.0", true),
            ("2001:db8::/32", "2001:db8::", true), ("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false), ("2001:db8::/32", "2001:db9::", false),
            ("2001::/23", "2001:1ff:ffff::", true), ("2001::/23", "2001:200::", false),
            ("fe80::/10", "fe80::1%eth0", true), ("fe80::/10", "fec0::", false),
            ("2001:db8::1/128", "2001:db8::1", true), ("2001:db8::1/128", "2001:db8::", false),
            ("2001:db8::1/128", "2001:db8::2", false), ("2001:db8::fffe/127", "2001:db8::ffff", true),
            ("::/0", "::", true), ("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
            ("::/0", "1.2.3.4", false), ("::/0", "::ffff:1.2.3.4", true),
            // IPv4-mapped addresses match IPv4 networks as their IPv4 address.
            ("10.0.0.0/8", "::ffff:10.0.0.1", true), ("10.0.0.0/8", "::ffff:11.0.0.1", false),
            ("127.0.0.1/32", "::ffff:127.0.0.1", true), ("10.0.0.0/8", "64:ff9b::10.0.0.1", false),
            ("10.0.0.0/8", "::10.0.0.1", false), ("10.0.0.0/8", "2002:a00:1::", false),
            // An IPv6 network never contains an IPv4 address.
            ("::ffff:0:0/96", "10.0.0.1", false), ("::ffff:0:0/96", "::ffff:10.0.0.1", true),
        ] as [(String, String, Bool)]
    )
    func contains(network: String, address: String, expected: Bool) throws {
        let net = try #require(IPNetwork(network))
        let addr = try #require(IPAddress(address))
        #expect(net.contains(addr) == expected)
    }
}
