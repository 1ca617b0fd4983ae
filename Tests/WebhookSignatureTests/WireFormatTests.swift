import Foundation
import Testing
import WebhookSignature

/// Header names and values exactly as DESIGN.md's wire format gives them, and published test vectors.
@Suite("Wire format")
struct WireFormatTests {
    struct StandardVector: Sendable, CustomTestStringConvertible {
        let secret: String
        let id: String
        let timestamp: Int64
        let body: String
        let signature: String
        var testDescription: String { id }
    }

    /// Published by Standard Webhooks.
    static let standardVectors = [
        StandardVector(
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek",
            timestamp: 1_614_265_330,
            body: #"{"test": 2432232314}"#,
            signature: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        ),
        StandardVector(
            secret: "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            id: "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
            timestamp: 1_649_367_553,
            body: #"{"email":"test@example.com","username":"test_user"}"#,
            signature: "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        ),
    ]

    @Test("Standard Webhooks vectors: signing", arguments: standardVectors)
    func standardVectorSigning(vector: StandardVector) throws {
        let headers = try WebhookSigner(scheme: .standard, secrets: [vector.secret])
            .headers(id: vector.id, eventType: "ignored", timestamp: vector.timestamp, body: Array(vector.body.utf8))
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.value) == [vector.id, String(vector.timestamp), vector.signature])
    }

    @Test("Standard Webhooks vectors: verifying", arguments: standardVectors)
    func standardVectorVerifying(vector: StandardVector) throws {
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [vector.secret])
        let headers = [
            ("webhook-id", vector.id),
            ("webhook-timestamp", String(vector.timestamp)),
            ("webhook-signature", vector.signature),
        ]
        let near = Date(timeIntervalSince1970: TimeInterval(vector.timestamp) + 42)
        let verified = try verifier.verify(headers: headers, body: Array(vector.body.utf8), now: near)
        #expect(verified == VerifiedWebhook(id: vector.id, timestamp: vector.timestamp))
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(headers: headers, body: Array((vector.body + " ").utf8), now: near)
        }
        #expect(throws: WebhookVerificationError.timestampTooOld("webhook-timestamp")) {
            try verifier.verify(headers: headers, body: Array(vector.body.utf8), now: Date())
        }
    }

    @Test("Standard: unknown signature versions are ignored, any v1 entry may match")
    func standardVersions() throws {
        let vector = Self.standardVectors[0]
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [vector.secret])
        let near = Date(timeIntervalSince1970: TimeInterval(vector.timestamp))
        let valid = String(vector.signature.dropFirst(3))
        func verify(_ signature: String) throws -> VerifiedWebhook {
            try verifier.verify(
                headers: [("webhook-id", vector.id), ("webhook-timestamp", String(vector.timestamp)), ("webhook-signature", signature)],
                body: Array(vector.body.utf8),
                now: near
            )
        }
        _ = try verify("v1a,\(valid) v2,AAAA v1,bm90IGl0 v1,\(valid)")
        _ = try verify("v1,\(valid.replacingOccurrences(of: "=", with: ""))")  // unpadded
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify("v2,\(valid)") }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify("v1,***") }
        #expect(throws: WebhookVerificationError.noMatchingSignature) { try verify("v1,\(valid.uppercased())") }
    }

    @Test("Standard: one v1 entry per secret, space-separated, in order")
    func standardRotationHeader() throws {
        let secrets = Self.standardVectors.map(\.secret)
        let vector = Self.standardVectors[0]
        let headers = try WebhookSigner(scheme: .standard, secrets: secrets)
            .headers(id: vector.id, eventType: "x", timestamp: vector.timestamp, body: Array(vector.body.utf8))
        let entries = headers[2].value.split(separator: " ").map(String.init)
        #expect(entries.count == 2)
        #expect(entries[0] == vector.signature)
        #expect(entries[1].hasPrefix("v1,") && entries[1].count == 47 && entries[1] != vector.signature)
    }

    @Test("GitHub's documented example")
    func githubExample() throws {
        let secret = "It's a Secret to Everybody"
        let body = Array("Hello, World!".utf8)
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        let headers = try WebhookSigner(scheme: .github, secrets: [secret])
            .headers(id: "evt_1", eventType: "push", timestamp: 0, body: body)
        #expect(headers.map(\.name) == ["X-Hub-Signature-256", "X-Webhook-Event", "X-Webhook-Id"])
        #expect(headers.map(\.value) == [expected, "push", "evt_1"])
        let verified = try WebhookVerifier(scheme: .github, secrets: [secret])
            .verify(headers: [("x-hub-signature-256", expected)], body: body)
        #expect(verified == VerifiedWebhook(id: nil, timestamp: nil))
        // Uppercase hex from another sender is still accepted.
        _ = try WebhookVerifier(scheme: .github, secrets: [secret])
            .verify(headers: [("X-Hub-Signature-256", "sha256=" + expected.dropFirst(7).uppercased())], body: body)
    }

    @Test("hmac-sha256: lowercase hex of the body's HMAC, plus event, id and timestamp")
    func hmacHeaders() throws {
        let headers = try WebhookSigner(scheme: .hmacSHA256, secrets: ["It's a Secret to Everybody", "second"])
            .headers(id: "evt_1", eventType: "push", timestamp: 1_614_265_330, body: Array("Hello, World!".utf8))
        #expect(headers.map(\.name) == ["X-Webhook-Signature", "X-Webhook-Event", "X-Webhook-Id", "X-Webhook-Timestamp"])
        #expect(headers.map(\.value) == [
            "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", "push", "evt_1", "1614265330",
        ])
    }

    @Test("stripe: t=<unix>,v1=<hex> per secret; the key is the whole secret string, whsec_ included")
    func stripeHeader() throws {
        let body = Array(#"{"id":"evt_1","type":"order.created"}"#.utf8)
        // HMAC-SHA256("whsec_test_secret", "1614265330." + body), computed independently.
        let expected = "5ecd1cd56f08777e16b053369a594b0b1cfbc3c6be5f993d0027b8e80d679a71"
        let one = try WebhookSigner(scheme: .stripe, secrets: ["whsec_test_secret"])
            .headers(id: "evt_1", eventType: "order.created", timestamp: 1_614_265_330, body: body)
        #expect(one.map(\.name) == ["Stripe-Signature"])
        #expect(one[0].value == "t=1614265330,v1=\(expected)")

        let two = try WebhookSigner(scheme: .stripe, secrets: ["whsec_test_secret", "other"])
            .headers(id: "evt_1", eventType: "order.created", timestamp: 1_614_265_330, body: body)
        let parts = two[0].value.split(separator: ",")
        #expect(parts.count == 3)
        #expect(parts[0] == "t=1614265330" && parts[1] == "v1=\(expected)")
        #expect(parts[2].hasPrefix("v1=") && parts[2].count == 67 && parts[2] != parts[1])

        let verifier = try WebhookVerifier(scheme: .stripe, secrets: ["whsec_test_secret"])
        let near = Date(timeIntervalSince1970: 1_614_265_400)
        // Other schemes (v0) are ignored; items may be in any order.
        _ = try verifier.verify(headers: [("stripe-signature", "v0=abc,v1=\(expected),t=1614265330")], body: body, now: near)
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(headers: [("Stripe-Signature", "t=1614265330,v0=\(expected)")], body: body, now: near)
        }
        // Spaces after the commas are tolerated.
        _ = try verifier.verify(headers: [("Stripe-Signature", "t=1614265330, v1=\(expected)")], body: body, now: near)
        // The timestamp is signed: changing it breaks the signature.
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(headers: [("Stripe-Signature", "t=1614265331,v1=\(expected)")], body: body, now: near)
        }
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        let scheme: SignatureScheme
        let header: String
        let value: String
        var testDescription: String { "\(scheme.rawValue) \(header): \(value)" }
    }

    static let hex64 = String(repeating: "ab", count: 32)

    static let malformed: [Malformed] = [
        Malformed(scheme: .standard, header: "webhook-timestamp", value: "soon"),
        Malformed(scheme: .standard, header: "webhook-timestamp", value: "-5"),
        Malformed(scheme: .standard, header: "webhook-timestamp", value: "+1700000000"),
        Malformed(scheme: .standard, header: "webhook-timestamp", value: "1700000000.5"),
        Malformed(scheme: .standard, header: "webhook-timestamp", value: ""),
        Malformed(scheme: .standard, header: "webhook-timestamp", value: "99999999999999999999"),
        Malformed(scheme: .standard, header: "webhook-signature", value: "garbage"),
        Malformed(scheme: .standard, header: "webhook-signature", value: ""),
        Malformed(scheme: .standard, header: "webhook-id", value: ""),
        Malformed(scheme: .hmacSHA256, header: "X-Webhook-Signature", value: "not hex"),
        Malformed(scheme: .hmacSHA256, header: "X-Webhook-Signature", value: String(hex64.dropLast())),
        Malformed(scheme: .hmacSHA256, header: "X-Webhook-Signature", value: "sha256=" + hex64),
        Malformed(scheme: .hmacSHA256, header: "X-Webhook-Timestamp", value: "yesterday"),
        Malformed(scheme: .github, header: "X-Hub-Signature-256", value: hex64),
        Malformed(scheme: .github, header: "X-Hub-Signature-256", value: "sha1=" + hex64),
        Malformed(scheme: .github, header: "X-Hub-Signature-256", value: "sha256=" + String(repeating: "zz", count: 32)),
        Malformed(scheme: .stripe, header: "Stripe-Signature", value: "v1=" + hex64),
        Malformed(scheme: .stripe, header: "Stripe-Signature", value: "t=later,v1=" + hex64),
        Malformed(scheme: .stripe, header: "Stripe-Signature", value: "garbage"),
        Malformed(scheme: .stripe, header: "Stripe-Signature", value: "t=1700000000,t=1700000000,v1=" + hex64),
        Malformed(scheme: .stripe, header: "Stripe-Signature", value: ""),
    ]

    @Test("Malformed headers are named", arguments: malformed)
    func malformedHeader(_ c: Malformed) throws {
        let secret = Fixture.secrets(for: c.scheme).old
        let headers = Fixture.replacing(c.header, with: c.value, in: try Fixture.signedHeaders(c.scheme, [secret]))
        #expect(Fixture.value(of: c.header, in: headers) == c.value)
        let error = #expect(throws: WebhookVerificationError.self) {
            try Fixture.verifier(c.scheme, [secret]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        }
        #expect(error?.code == .malformedHeader)
        #expect(error?.header == c.header)
        #expect(error == .malformedHeader(c.header))
    }

    @Test("When a header is repeated, the first occurrence counts")
    func repeatedHeader() throws {
        let vector = Self.standardVectors[0]
        let standard = try WebhookVerifier(scheme: .standard, secrets: [vector.secret])
        let verified = try standard.verify(
            headers: [
                ("webhook-id", vector.id), ("webhook-id", "msg_other"),
                ("webhook-timestamp", String(vector.timestamp)), ("webhook-timestamp", "1"),
                ("webhook-signature", vector.signature), ("webhook-signature", "v1,AAAA"),
            ],
            body: Array(vector.body.utf8),
            now: Date(timeIntervalSince1970: TimeInterval(vector.timestamp))
        )
        #expect(verified == VerifiedWebhook(id: vector.id, timestamp: vector.timestamp))

        let secret = Fixture.secrets(for: .github).old
        let headers = try Fixture.signedHeaders(.github, [secret])
        let verifier = try Fixture.verifier(.github, [secret])
        _ = try verifier.verify(headers: headers + [("X-Hub-Signature-256", "sha256=" + Self.hex64)], body: Fixture.body)
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try verifier.verify(headers: [("X-Hub-Signature-256", "sha256=" + Self.hex64)] + headers, body: Fixture.body)
        }
    }
}
