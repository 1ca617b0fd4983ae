import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Signs webhook deliveries with one or more secrets (several during a rotation).
///
/// ```swift
/// let signer = try WebhookSigner(scheme: .standard, secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
/// for (name, value) in signer.headers(id: event.id, eventType: event.type, timestamp: now, body: body) {
///     request.headers.add(name: name, value: value)
/// }
/// ```
///
/// `standard` and `stripe` carry one signature per secret; `hmac-sha256` and `github`
/// sign with the first secret only. For `standard`, a `whsec_` secret signs `v1` (HMAC-SHA256)
/// and a `whsk_` key signs `v1a` (ed25519); a list may mix them. Create one signer per endpoint and reuse it:
/// the keys are prepared once, in `init`.
public struct WebhookSigner: Sendable {
    /// The scheme the headers follow.
    public let scheme: SignatureScheme
    private let keys: SigningKeys

    /// Prepares the keys for `scheme`.
    ///
    /// Throws `WebhookSecretError` if `secrets` is empty, any secret is empty, or for `.standard`
    /// a secret is neither `whsec_` + valid base64 (padding optional) nor a valid `whsk_` key (a
    /// `whpk_` public key cannot sign). Other schemes use each secret's UTF-8 bytes as the key,
    /// even if it starts with `whsec_`, and refuse `whsk_` and `whpk_` keys.
    public init(scheme: SignatureScheme, secrets: [String]) throws(WebhookSecretError) {
        self.scheme = scheme
        self.keys = try SigningKeys(scheme: scheme, secrets: secrets, use: .signing)
    }

    /// The headers for one attempt, in a fixed order; `body` must be exactly the bytes sent.
    ///
    /// - `standard`: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>` or
    ///   `v1a,<base64>`, space-separated, one per secret in the order given).
    /// - `hmac-sha256`: `X-Webhook-Signature` (lowercase hex), `X-Webhook-Event`, `X-Webhook-Id`, `X-Webhook-Timestamp`.
    /// - `github`: `X-Hub-Signature-256` (`sha256=<hex>`), `X-Webhook-Event`, `X-Webhook-Id`.
    /// - `stripe`: `Stripe-Signature` (`t=<timestamp>,v1=<hex>`, one `v1=` per secret).
    ///
    /// `timestamp` is unix seconds; verifiers reject negative values as malformed.
    public func headers(
        id: String,
        eventType: String,
        timestamp: Int64,
        body: some DataProtocol
    ) -> [(name: String, value: String)] {
        if let headers = body.withContiguousStorageIfAvailable({ headers(id: id, eventType: eventType, timestamp: timestamp, body: UnsafeRawBufferPointer($0)) }) {
            return headers
        }
        return Array(body).withUnsafeBytes { headers(id: id, eventType: eventType, timestamp: timestamp, body: $0) }
    }

    /// The headers for one attempt whose body is in contiguous memory (the way a sender has it).
    public func headers(
        id: String,
        eventType: String,
        timestamp: Int64,
        body: UnsafeRawBufferPointer
    ) -> [(name: String, value: String)] {
        let time = String(timestamp)
        switch scheme {
        case .standard:
            // "{id}.{timestamp}." then the body.
            var prefix: [UInt8] = []
            prefix.reserveCapacity(id.utf8.count + time.utf8.count + 2)
            prefix.append(contentsOf: id.utf8)
            prefix.append(UInt8(ascii: "."))
            prefix.append(contentsOf: time.utf8)
            prefix.append(UInt8(ascii: "."))
            var signature = ""
            signature.reserveCapacity(keys.keys.count * 48)
            var message: [UInt8]? = nil
            for key in keys.keys {
                switch key {
                case .hmac(let keyed):
                    if !signature.isEmpty { signature += " " }
                    signature += "v1,"
                    signature += prefix.withUnsafeBytes { keyed.code(prefix: $0, body: body) }.withUnsafeBytes { Encoding.base64($0) }
                case .ed25519(let privateKey):
                    let whole = message ?? SigningKeys.message(prefix: prefix, body: body)
                    message = whole
                    // BoringSSL's ed25519 signing only fails when it cannot allocate: that entry is left out.
                    if let bytes = try? privateKey.signature(for: whole) {
                        if !signature.isEmpty { signature += " " }
                        signature += "v1a," + bytes.withUnsafeBytes { Encoding.base64($0) }
                    }
                case .ed25519Public:
                    continue  // refused in init: a public key cannot sign
                }
            }
            return [
                (name: HeaderName.webhookID, value: id),
                (name: HeaderName.webhookTimestamp, value: time),
                (name: HeaderName.webhookSignature, value: signature),
            ]
        case .hmacSHA256:
            let hex = keys.first.code(prefix: UnsafeRawBufferPointer(start: nil, count: 0), body: body).withUnsafeBytes { Encoding.hex($0) }
            return [
                (name: HeaderName.xWebhookSignature, value: hex),
                (name: HeaderName.xWebhookEvent, value: eventType),
                (name: HeaderName.xWebhookID, value: id),
                (name: HeaderName.xWebhookTimestamp, value: time),
            ]
        case .github:
            let hex = keys.first.code(prefix: UnsafeRawBufferPointer(start: nil, count: 0), body: body).withUnsafeBytes { Encoding.hex($0) }
            return [
                (name: HeaderName.xHubSignature256, value: "sha256=" + hex),
                (name: HeaderName.xWebhookEvent, value: eventType),
                (name: HeaderName.xWebhookID, value: id),
            ]
        case .stripe:
            let prefix = Array("\(time).".utf8)
            var value = "t=" + time
            value.reserveCapacity(value.utf8.count + keys.authenticators.count * 68)
            for keyed in keys.authenticators {
                value += ",v1="
                value += prefix.withUnsafeBytes { keyed.code(prefix: $0, body: body) }.withUnsafeBytes { Encoding.hex($0) }
            }
            return [(name: HeaderName.stripeSignature, value: value)]
        }
    }
}
