import Crypto
import Testing
@testable import WebhookSignature

/// The HMAC the signer and verifier compute against swift-crypto's own.
@Suite("Keyed MAC")
struct KeyedMACTests {
    @Test("equals swift-crypto's HMAC-SHA256 for keys shorter than, as long as and longer than a block, and any split of the message")
    func matchesSwiftCrypto() {
        var generator = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 31, 32, 63, 64, 65, 100, 200] {
            let key = (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let keyed = KeyedMAC(key: key)
            for length in [0, 1, 55, 56, 63, 64, 65, 500, 4096] {
                let message = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let expected = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
                for split in Set([0, length / 3, length]) {
                    let prefix = Array(message[..<split])
                    let body = Array(message[split...])
                    let raw = prefix.withUnsafeBytes { prefix in body.withUnsafeBytes { keyed.code(prefix: prefix, body: $0) } }
                    #expect(Array(raw) == expected, "key \(keyLength) B, message \(length) B split at \(split)")
                    #expect(Array(keyed.code(prefix: prefix, body: body[...])) == expected)
                }
            }
        }
    }
}
