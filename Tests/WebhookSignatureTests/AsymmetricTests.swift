import Foundation
import Testing
@testable import WebhookSignature

/// Standard Webhooks `v1a` (ed25519) beside `v1`, against the vectors in
/// `examples/vectors/standard-webhooks.json`, which Python's hmac and `cryptography` made.
@Suite("v1a: ed25519 signatures")
struct AsymmetricTests {
    struct Vector: Decodable, CustomTestStringConvertible {
        var name: String
        var secrets: [String]
        var public_keys: [String]
        var webhook_id: String
        var webhook_timestamp: String
        var body: String
        var webhook_signature: String

        var testDescription: String { name }
    }

    static let vectors: [Vector] = {
        struct File: Decodable { var cases: [Vector] }
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/vectors/standard-webhooks.json").standardizedFileURL.path
        guard let data = FileManager.default.contents(atPath: path), let file = try? JSONDecoder().decode(File.self, from: data) else {
            return []
        }
        return file.cases
    }()

    @Test("the vector file is there and has v1 and v1a cases")
    func vectorFile() {
        #expect(Self.vectors.map(\.name) == ["v1", "v1a", "v1a and v1 side by side"])
    }

    @Test("the signer sends exactly the vector's header; each secret, and each whpk_ key, verifies it; one changed byte does not", arguments: vectors)
    func vector(_ vector: Vector) throws {
        let timestamp = try #require(Int64(vector.webhook_timestamp))
        let now = Date(timeIntervalSince1970: Double(timestamp))
        let body = Array(vector.body.utf8)
        let signer = try WebhookSigner(scheme: .standard, secrets: vector.secrets)
        let headers = signer.headers(id: vector.webhook_id, eventType: "t", timestamp: timestamp, body: body)
        #expect(headers.first { $0.name == HeaderName.webhookSignature }?.value == vector.webhook_signature)

        let received = [("webhook-id", vector.webhook_id), ("webhook-timestamp", vector.webhook_timestamp), ("webhook-signature", vector.webhook_signature)]
        let symmetric = vector.secrets.filter { $0.hasPrefix("whsec_") }
        for key in symmetric + vector.public_keys + vector.secrets.filter({ $0.hasPrefix("whsk_") }) {
            let verifier = try WebhookVerifier(scheme: .standard, secrets: [key])
            #expect(try verifier.verify(headers: received, body: body, now: now).id == vector.webhook_id)
            var tampered = body
            tampered[tampered.count / 2] ^= 0x01
            #expect(throws: WebhookVerificationError.noMatchingSignature) {
                try verifier.verify(headers: received, body: tampered, now: now)
            }
        }
    }

    @Test("a forged v1a entry, one under another key, or one cut short is rejected; a whpk_ key alone ignores v1 entries")
    func forgeries() throws {
        let pair = WebhookSecret.generateKeyPair()
        let other = WebhookSecret.generateKeyPair()
        let body = Array(#"{"id":"evt_1","type":"t"}"#.utf8)
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [pair.publicKey])
        func value(_ secrets: [String]) throws -> String {
            try WebhookSigner(scheme: .standard, secrets: secrets).headers(id: "evt_1", eventType: "t", timestamp: 1_700_000_000, body: body)[2].value
        }
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        func check(_ signature: String) throws -> VerifiedWebhook {
            try verifier.verify(headers: [("webhook-id", "evt_1"), ("webhook-timestamp", "1700000000"), ("webhook-signature", signature)], body: body, now: now)
        }
        #expect(try check(try value([pair.secretKey])).id == "evt_1")
        let genuine = try value([pair.secretKey])
        var bytes = try #require(Encoding.decodeBase64(genuine.dropFirst(4)))
        bytes[0] ^= 0x80
        let forged = "v1a," + bytes.withUnsafeBytes { Encoding.base64($0) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(forged) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(try value([other.secretKey])) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(String(genuine.dropLast(8))) }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check(try value([WebhookSecret.generate()])) }
        // The same signature as v1 (the wrong version) is not accepted either.
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try check("v1," + genuine.dropFirst(4)) }
    }

    @Test("key pairs: whsk_ is 32 bytes, whpk_ its public key; a 64-byte whsk_ must carry its own public key; whpk_ cannot sign")
    func keys() throws {
        let pair = WebhookSecret.generateKeyPair()
        #expect(pair.secretKey.hasPrefix("whsk_") && pair.publicKey.hasPrefix("whpk_"))
        #expect(Encoding.decodeBase64(pair.secretKey.dropFirst(5))?.count == 32)
        #expect(Encoding.decodeBase64(pair.publicKey.dropFirst(5))?.count == 32)
        #expect(try WebhookSecret.publicKey(of: pair.secretKey) == pair.publicKey)

        let seed = try #require(Encoding.decodeBase64(pair.secretKey.dropFirst(5)))
        let publicBytes = try #require(Encoding.decodeBase64(pair.publicKey.dropFirst(5)))
        let long = "whsk_" + (seed + publicBytes).withUnsafeBytes { Encoding.base64($0) }
        #expect(try WebhookSecret.publicKey(of: long) == pair.publicKey)
        let mismatched = "whsk_" + (seed + Array(repeating: 7, count: 32)).withUnsafeBytes { Encoding.base64($0) }
        #expect(throws: WebhookSecretError.invalidSigningKey(index: 1)) {
            try WebhookSigner(scheme: .standard, secrets: [pair.secretKey, mismatched])
        }
        #expect(throws: WebhookSecretError.invalidSigningKey(index: 0)) { try WebhookSigner(scheme: .standard, secrets: ["whsk_AAAA"]) }
        #expect(throws: WebhookSecretError.invalidPublicKey(index: 0)) { try WebhookVerifier(scheme: .standard, secrets: ["whpk_AAAA"]) }
        #expect(throws: WebhookSecretError.publicKeyCannotSign(index: 0)) { try WebhookSigner(scheme: .standard, secrets: [pair.publicKey]) }
        // Other schemes are HMAC: an ed25519 key there would be a public key anyone could sign with, or a shared private key.
        for scheme in [SignatureScheme.hmacSHA256, .github, .stripe] {
            #expect(throws: WebhookSecretError.asymmetricKeyNotForScheme(index: 1)) { try WebhookSigner(scheme: scheme, secrets: ["shared", pair.publicKey]) }
            #expect(throws: WebhookSecretError.asymmetricKeyNotForScheme(index: 0)) { try WebhookVerifier(scheme: scheme, secrets: [pair.secretKey]) }
        }
        // The message names the problem and never the key.
        let message = WebhookSecretError.publicKeyCannotSign(index: 0).description
        #expect(message.contains("whpk_") && !message.contains(pair.publicKey))
    }
}
