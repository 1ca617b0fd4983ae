import Testing
@testable import WebhookSignature

/// The internal hex and base64 codecs against RFC 4648 and round trips.
@Suite("Encoding")
struct EncodingTests {
    @Test("Base64 matches RFC 4648's vectors", arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func base64(plain: String, encoded: String) {
        #expect(Array(plain.utf8).withUnsafeBytes { Encoding.base64($0) } == encoded)
        #expect(Encoding.decodeBase64(encoded[...]) == Array(plain.utf8))
        let unpadded = String(encoded.filter { $0 != "=" })
        #expect(Encoding.decodeBase64(unpadded[...]) == Array(plain.utf8))
    }

    @Test("Hex is lowercase and round-trips every byte")
    func hex() {
        let bytes = (0...255).map { UInt8($0) }
        let hex = bytes.withUnsafeBytes { Encoding.hex($0) }
        #expect(hex.count == 512)
        #expect(hex.hasPrefix("000102") && hex.hasSuffix("fdfeff"))
        #expect(hex == hex.lowercased())
        #expect(Encoding.decodeHex(hex[...]) == bytes)
        #expect(Encoding.decodeHex(hex.uppercased()[...]) == bytes)
        #expect(Encoding.decodeHex("abc"[...]) == nil)
        #expect(Encoding.decodeHex("gg"[...]) == nil)
    }

    @Test("Base64 round-trips every byte at every length")
    func base64RoundTrip() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 0...bytes.count {
            let slice = Array(bytes[(256 - length)...])
            let encoded = slice.withUnsafeBytes { Encoding.base64($0) }
            #expect(Encoding.decodeBase64(encoded[...]) == slice)
        }
    }

    @Test("Constant-time comparison")
    func compare() {
        let a: [UInt8] = [1, 2, 3]
        a.withUnsafeBytes { buffer in
            #expect(Encoding.constantTimeEquals(buffer, [1, 2, 3]))
            #expect(!Encoding.constantTimeEquals(buffer, [1, 2, 4]))
            #expect(!Encoding.constantTimeEquals(buffer, [1, 2]))
            #expect(!Encoding.constantTimeEquals(buffer, []))
        }
    }
}
