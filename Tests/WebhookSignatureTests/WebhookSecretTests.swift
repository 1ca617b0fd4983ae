import Testing
import WebhookSignature

/// `whsec_` parsing and generation, and the secret checks in the signer's and verifier's initialisers.
@Suite("Secrets")
struct WebhookSecretTests {
    @Test("Base64 with and without padding decodes the same")
    func padding() throws {
        #expect(try WebhookSecret.decodeStandard("whsec_AQID") == [1, 2, 3])
        #expect(try WebhookSecret.decodeStandard("whsec_AQI=") == [1, 2])
        #expect(try WebhookSecret.decodeStandard("whsec_AQI") == [1, 2])
        #expect(try WebhookSecret.decodeStandard("whsec_AQ==") == [1])
        #expect(try WebhookSecret.decodeStandard("whsec_AQ") == [1])
        #expect(try WebhookSecret.decodeStandard("whsec_+/+/") == [0xFB, 0xFF, 0xBF])
        let key = try WebhookSecret.decodeStandard("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(key.count == 24)
        #expect(key.prefix(3) == [0x31, 0xF2, 0x90])
    }

    @Test("Signers accept whsec_ secrets with or without padding, and they sign alike")
    func paddingInSigner() throws {
        let padded = try WebhookSigner(scheme: .standard, secrets: ["whsec_AQIDBA=="])
        let unpadded = try WebhookSigner(scheme: .standard, secrets: ["whsec_AQIDBA"])
        let a = padded.headers(id: "m", eventType: "e", timestamp: 1, body: [1, 2, 3])
        let b = unpadded.headers(id: "m", eventType: "e", timestamp: 1, body: [1, 2, 3])
        #expect(a.map(\.value) == b.map(\.value))
    }

    @Test(
        "Invalid whsec_ secrets are rejected",
        arguments: [
            "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",      // no prefix
            "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", // wrong case prefix
            "whsec_",                                 // no key
            "whsec_A",                                // impossible length
            "whsec_AQ=",                              // padding does not complete the group
            "whsec_AQ===",                            // too much padding
            "whsec_AQ==AQ==",                         // padding in the middle
            "whsec_!!!!",                             // not base64
            "whsec_AQ-_",                             // URL-safe alphabet
            "whsec_AQID BA==",                        // whitespace
            "whsec_====",
        ]
    )
    func invalid(secret: String) throws {
        #expect(throws: WebhookSecretError.invalidStandardSecret(index: nil)) {
            try WebhookSecret.decodeStandard(secret)
        }
        #expect(throws: WebhookSecretError.invalidStandardSecret(index: 0)) {
            try WebhookSigner(scheme: .standard, secrets: [secret])
        }
    }

    @Test("generate() gives 24 random bytes that decode and round-trip")
    func generate() throws {
        let secret = WebhookSecret.generate()
        #expect(secret.hasPrefix("whsec_"))
        #expect(secret.count == 6 + 32)
        let key = try WebhookSecret.decodeStandard(secret)
        #expect(key.count == 24)
        #expect(WebhookSecret.generate() != secret)
        #expect(try WebhookSecret.decodeStandard(WebhookSecret.generate(byteCount: 32)).count == 32)
        #expect(try WebhookSecret.decodeStandard(WebhookSecret.generate(byteCount: 1)).count == 1)

        let signer = try WebhookSigner(scheme: .standard, secrets: [secret])
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [secret])
        let headers = signer.headers(id: "msg_1", eventType: "e", timestamp: Fixture.timestamp, body: Fixture.body)
        _ = try verifier.verify(headers: headers, body: Fixture.body, now: Fixture.now)
    }

    @Test("Generated secrets of every length survive the base64 round trip")
    func generateLengths() throws {
        for count in 1...40 {
            let secret = WebhookSecret.generate(byteCount: count)
            #expect(try WebhookSecret.decodeStandard(secret).count == count)
            let unpadded = String(secret.reversed().drop { $0 == "=" }.reversed())
            #expect(try WebhookSecret.decodeStandard(unpadded) == WebhookSecret.decodeStandard(secret))
        }
    }

    @Test("Secret lists are checked, naming the index", arguments: SignatureScheme.allCases)
    func secretLists(scheme: SignatureScheme) throws {
        let good = Fixture.secrets(for: scheme).old
        #expect(throws: WebhookSecretError.noSecrets) { try WebhookSigner(scheme: scheme, secrets: []) }
        #expect(throws: WebhookSecretError.noSecrets) { try WebhookVerifier(scheme: scheme, secrets: []) }
        #expect(throws: WebhookSecretError.emptySecret(index: 1)) { try WebhookSigner(scheme: scheme, secrets: [good, ""]) }
        #expect(throws: WebhookSecretError.emptySecret(index: 0)) { try WebhookVerifier(scheme: scheme, secrets: ["", good]) }
        if scheme == .standard {
            #expect(throws: WebhookSecretError.invalidStandardSecret(index: 2)) {
                try WebhookVerifier(scheme: scheme, secrets: [good, good, "plain"])
            }
        } else {
            // Other schemes take any non-empty string, whsec_-looking or not.
            _ = try WebhookSigner(scheme: scheme, secrets: ["plain", "whsec_!!!", "whsec_AQID"])
        }
    }

    @Test("The empty string is an empty secret, not an invalid one")
    func emptyDecode() {
        let error = #expect(throws: WebhookSecretError.self) { try WebhookSecret.decodeStandard("") }
        #expect(error?.code == .emptySecret)
        #expect(error?.index == nil)
    }
}
