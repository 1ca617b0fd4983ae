import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The secrets of a signer or verifier, validated and turned into keys once.
struct SigningKeys: Sendable {
    /// One prepared key: a keyed HMAC (`whsec_`, or any secret of the other schemes), or an
    /// ed25519 key of `standard`'s `v1a` (`whsk_` signs; `whpk_` only verifies).
    enum Key: Sendable {
        /// Its padded key hashed once, for every message.
        case hmac(KeyedMAC)
        case ed25519(Curve25519.Signing.PrivateKey)
        case ed25519Public(Curve25519.Signing.PublicKey)
    }

    /// What the keys are for: a public key can verify but not sign.
    enum Use { case signing, verifying }

    /// The keys, in the order the secrets were given.
    let keys: [Key]
    /// The keyed HMACs among them, in order.
    let authenticators: [KeyedMAC]
    /// The ed25519 public keys among them (a `whsk_` key's own too), in order.
    let publicKeys: [Curve25519.Signing.PublicKey]

    init(scheme: SignatureScheme, secrets: [String], use: Use) throws(WebhookSecretError) {
        guard !secrets.isEmpty else { throw .noSecrets }
        var keys: [Key] = []
        keys.reserveCapacity(secrets.count)
        for (index, secret) in secrets.enumerated() {
            guard !secret.isEmpty else { throw .emptySecret(index: index) }
            guard scheme.usesStandardSecrets else {
                // An ed25519 key used as an HMAC key: a public key would let anyone sign, a secret
                // key would have to be shared. Only `standard` has a use for them.
                if secret.hasPrefix(WebhookSecret.signingKeyPrefix) || secret.hasPrefix(WebhookSecret.publicKeyPrefix) {
                    throw .asymmetricKeyNotForScheme(index: index)
                }
                keys.append(.hmac(KeyedMAC(key: Array(secret.utf8))))
                continue
            }
            do throws(WebhookSecretError) {
                if secret.hasPrefix(WebhookSecret.signingKeyPrefix) {
                    keys.append(.ed25519(try WebhookSecret.decodeSigningKey(secret)))
                } else if secret.hasPrefix(WebhookSecret.publicKeyPrefix) {
                    guard use == .verifying else { throw WebhookSecretError.publicKeyCannotSign(index: nil) }
                    keys.append(.ed25519Public(try WebhookSecret.decodePublicKey(secret)))
                } else {
                    keys.append(.hmac(KeyedMAC(key: try WebhookSecret.decodeStandard(secret))))
                }
            } catch {
                throw error.at(index: index)
            }
        }
        self.keys = keys
        self.authenticators = keys.compactMap { if case .hmac(let keyed) = $0 { keyed } else { nil } }
        self.publicKeys = keys.compactMap {
            switch $0 {
            case .hmac: nil
            case .ed25519(let key): key.publicKey
            case .ed25519Public(let key): key
            }
        }
    }

    /// The first secret's keyed HMAC: for every scheme but `standard` (the only one with keys of
    /// another kind) there is always one.
    var first: KeyedMAC { authenticators[0] }

    /// `prefix` followed by `body`, in one buffer: ed25519 hashes the message twice, so it cannot be streamed.
    static func message(prefix: [UInt8], body: some DataProtocol) -> [UInt8] {
        var message = prefix
        message.reserveCapacity(prefix.count + body.count)
        message.append(contentsOf: body)
        return message
    }
}
