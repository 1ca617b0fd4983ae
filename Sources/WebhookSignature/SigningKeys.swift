import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The secrets of a signer or verifier, validated and turned into keyed HMAC-SHA256 states once.
struct SigningKeys: Sendable {
    /// One keyed HMAC per secret, in the order given; copied for each message so the key schedule is not redone.
    let authenticators: [HMAC<SHA256>]

    init(scheme: SignatureScheme, secrets: [String]) throws(WebhookSecretError) {
        guard !secrets.isEmpty else { throw .noSecrets }
        var authenticators: [HMAC<SHA256>] = []
        authenticators.reserveCapacity(secrets.count)
        for (index, secret) in secrets.enumerated() {
            guard !secret.isEmpty else { throw .emptySecret(index: index) }
            let key: SymmetricKey
            if scheme.usesStandardSecrets {
                do {
                    key = SymmetricKey(data: try WebhookSecret.decodeStandard(secret))
                } catch {
                    throw error.at(index: index)
                }
            } else {
                key = SymmetricKey(data: Array(secret.utf8))
            }
            authenticators.append(HMAC<SHA256>(key: key))
        }
        self.authenticators = authenticators
    }

    /// The first secret's keyed HMAC (there is always at least one).
    var first: HMAC<SHA256> { authenticators[0] }

    /// HMAC-SHA256 of `prefix` followed by `body`, without concatenating them.
    static func mac(
        _ keyed: HMAC<SHA256>,
        prefix: [UInt8],
        body: some DataProtocol
    ) -> HashedAuthenticationCode<SHA256> {
        var hmac = keyed
        if !prefix.isEmpty { hmac.update(data: prefix) }
        hmac.update(data: body)
        return hmac.finalize()
    }
}
