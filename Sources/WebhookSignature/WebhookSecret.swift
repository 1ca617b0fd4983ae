import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Helpers for Standard Webhooks secrets: `whsec_` (HMAC, `v1`) and the `whsk_`/`whpk_` ed25519 key pair (`v1a`).
public enum WebhookSecret {
    /// The prefix every Standard Webhooks symmetric secret carries.
    public static let prefix = "whsec_"
    /// The prefix of an ed25519 secret key, which signs `v1a`.
    public static let signingKeyPrefix = "whsk_"
    /// The prefix of an ed25519 public key, which verifies `v1a` and cannot sign.
    public static let publicKeyPrefix = "whpk_"

    /// A new random secret: `"whsec_"` + standard base64 of `byteCount` random bytes (at least 1).
    public static func generate(byteCount: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<max(byteCount, 1)).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return prefix + bytes.withUnsafeBytes { Encoding.base64($0) }
    }

    /// A new ed25519 key pair: `whsk_` + base64 of the 32-byte private key (RFC 8032's seed), and
    /// `whpk_` + base64 of the 32-byte public key.
    public static func generateKeyPair() -> (secretKey: String, publicKey: String) {
        let key = Curve25519.Signing.PrivateKey()
        return (
            secretKey: signingKeyPrefix + key.rawRepresentation.withUnsafeBytes { Encoding.base64($0) },
            publicKey: publicKeyString(key.publicKey)
        )
    }

    /// The `whpk_` public key of a `whsk_` secret key.
    public static func publicKey(of secretKey: String) throws(WebhookSecretError) -> String {
        publicKeyString(try decodeSigningKey(secretKey).publicKey)
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

    /// A `whsk_` key: base64 of the 32-byte private key, or of 64 bytes (the private key followed by
    /// its public key, as libsodium and Go store it), whose second half must then be that public key.
    static func decodeSigningKey(_ secret: String) throws(WebhookSecretError) -> Curve25519.Signing.PrivateKey {
        guard secret.hasPrefix(signingKeyPrefix),
              let bytes = Encoding.decodeBase64(secret.dropFirst(signingKeyPrefix.count)),
              bytes.count == 32 || bytes.count == 64,
              let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes[..<32])
        else { throw .invalidSigningKey(index: nil) }
        if bytes.count == 64, Array(key.publicKey.rawRepresentation) != Array(bytes[32...]) {
            throw .invalidSigningKey(index: nil)
        }
        return key
    }

    /// A `whpk_` key: base64 of the 32-byte public key.
    static func decodePublicKey(_ secret: String) throws(WebhookSecretError) -> Curve25519.Signing.PublicKey {
        guard secret.hasPrefix(publicKeyPrefix),
              let bytes = Encoding.decodeBase64(secret.dropFirst(publicKeyPrefix.count)),
              bytes.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        else { throw .invalidPublicKey(index: nil) }
        return key
    }

    private static func publicKeyString(_ key: Curve25519.Signing.PublicKey) -> String {
        publicKeyPrefix + key.rawRepresentation.withUnsafeBytes { Encoding.base64($0) }
    }
}
