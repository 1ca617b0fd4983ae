/// Helpers for Standard Webhooks `whsec_` secrets.
public enum WebhookSecret {
    /// The prefix every Standard Webhooks secret carries.
    public static let prefix = "whsec_"

    /// A new random secret: `"whsec_"` + standard base64 of `byteCount` random bytes (at least 1).
    public static func generate(byteCount: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<max(byteCount, 1)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + bytes.withUnsafeBytes { Encoding.base64($0) }
    }

    /// The key bytes of a `whsec_` secret: strips `whsec_` and decodes standard base64, with or without padding.
    /// Throws `invalidStandardSecret` (with no index) for a missing prefix, invalid base64 or an empty key,
    /// and `emptySecret` for the empty string.
    public static func decodeStandard(_ secret: String) throws(WebhookSecretError) -> [UInt8] {
        guard !secret.isEmpty else { throw .emptySecret(index: nil) }
        guard secret.hasPrefix(prefix),
              let bytes = Encoding.decodeBase64(secret.dropFirst(prefix.count)),
              !bytes.isEmpty
        else { throw .invalidStandardSecret(index: nil) }
        return bytes
    }
}
