/// A signature scheme a delivery can carry; the raw value is the name used in configuration.
public enum SignatureScheme: String, Sendable, Hashable, CaseIterable {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`.
    case standard
    /// A plain HMAC-SHA256 of the body in `X-Webhook-Signature: <hex>`.
    case hmacSHA256 = "hmac-sha256"
    /// GitHub's `X-Hub-Signature-256: sha256=<hex>`.
    case github
    /// Stripe's `Stripe-Signature: t=<unix>,v1=<hex>`.
    case stripe
}

extension SignatureScheme {
    /// Whether the scheme's secrets must be `whsec_` + base64 (only `.standard`).
    var usesStandardSecrets: Bool { self == .standard }
}
