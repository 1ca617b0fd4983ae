import Foundation
import WebhookSignature

/// Shared inputs for the tests.
enum Fixture {
    static let id = "msg_2mXkQ7Rz"
    static let eventType = "order.created"
    static let timestamp: Int64 = 1_700_000_000
    static let now = Date(timeIntervalSince1970: TimeInterval(timestamp))
    static let body = Array(#"{"id":"msg_2mXkQ7Rz","type":"order.created","data":{"total":42}}"#.utf8)

    /// Two distinct secrets valid for `scheme` ("old" and "new" in a rotation).
    static func secrets(for scheme: SignatureScheme) -> (old: String, new: String) {
        switch scheme {
        case .standard:
            ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        default:
            ("old-shared-secret-7c1e", "new-shared-secret-9f42")
        }
    }

    static func signer(_ scheme: SignatureScheme, _ secrets: [String]) throws -> WebhookSigner {
        try WebhookSigner(scheme: scheme, secrets: secrets)
    }

    static func verifier(
        _ scheme: SignatureScheme,
        _ secrets: [String],
        tolerance: Duration = .seconds(300)
    ) throws -> WebhookVerifier {
        try WebhookVerifier(scheme: scheme, secrets: secrets, tolerance: tolerance)
    }

    /// Signed headers for the fixture delivery, as unlabeled tuples.
    static func signedHeaders(
        _ scheme: SignatureScheme,
        _ secrets: [String],
        timestamp: Int64 = Fixture.timestamp,
        body: [UInt8] = Fixture.body
    ) throws -> [(String, String)] {
        try signer(scheme, secrets)
            .headers(id: id, eventType: eventType, timestamp: timestamp, body: body)
            .map { ($0.name, $0.value) }
    }

    /// The headers a scheme cannot be verified without.
    static func requiredHeaders(_ scheme: SignatureScheme) -> [String] {
        switch scheme {
        case .standard: ["webhook-id", "webhook-timestamp", "webhook-signature"]
        case .hmacSHA256: ["X-Webhook-Signature"]
        case .github: ["X-Hub-Signature-256"]
        case .stripe: ["Stripe-Signature"]
        }
    }

    /// The header whose timestamp is checked against the tolerance, if any.
    static func timestampHeader(_ scheme: SignatureScheme) -> String? {
        switch scheme {
        case .standard: "webhook-timestamp"
        case .hmacSHA256: "X-Webhook-Timestamp"
        case .github: nil
        case .stripe: "Stripe-Signature"
        }
    }

    /// `headers` with the value of `name` replaced (or removed when `value` is nil).
    static func replacing(_ name: String, with value: String?, in headers: [(String, String)]) -> [(String, String)] {
        headers.compactMap { header in
            guard header.0.lowercased() == name.lowercased() else { return header }
            return value.map { (header.0, $0) }
        }
    }

    static func value(of name: String, in headers: [(String, String)]) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}
