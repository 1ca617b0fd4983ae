/// Why a signing or verifying secret was rejected; never contains the secret itself.
public struct WebhookSecretError: Error, Hashable, CustomStringConvertible {
    /// What kind of problem it is; match on this in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case noSecrets
            case emptySecret
            case invalidStandardSecret
            case invalidSigningKey
            case invalidPublicKey
            case publicKeyCannotSign
            case asymmetricKeyNotForScheme
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The list of secrets was empty.
        public static let noSecrets = Code(.noSecrets)
        /// One secret was the empty string.
        public static let emptySecret = Code(.emptySecret)
        /// A `standard` secret was not `whsec_` followed by non-empty standard base64.
        public static let invalidStandardSecret = Code(.invalidStandardSecret)
        /// A `whsk_` key was not base64 of a 32-byte ed25519 private key (or of 64 bytes: it and its public key).
        public static let invalidSigningKey = Code(.invalidSigningKey)
        /// A `whpk_` key was not base64 of a 32-byte ed25519 public key.
        public static let invalidPublicKey = Code(.invalidPublicKey)
        /// A `whpk_` public key was given to sign with.
        public static let publicKeyCannotSign = Code(.publicKeyCannotSign)
        /// A `whsk_` or `whpk_` ed25519 key was given to a scheme other than `standard`.
        public static let asymmetricKeyNotForScheme = Code(.asymmetricKeyNotForScheme)

        /// The code's name, e.g. `noSecrets`.
        public var description: String {
            switch base {
            case .noSecrets: "noSecrets"
            case .emptySecret: "emptySecret"
            case .invalidStandardSecret: "invalidStandardSecret"
            case .invalidSigningKey: "invalidSigningKey"
            case .invalidPublicKey: "invalidPublicKey"
            case .publicKeyCannotSign: "publicKeyCannotSign"
            case .asymmetricKeyNotForScheme: "asymmetricKeyNotForScheme"
            }
        }
    }

    /// What kind of problem it is.
    public let code: Code
    /// The position of the offending secret in the list given, or `nil` when it concerns the whole list or a lone secret.
    public let index: Int?

    private init(code: Code, index: Int?) {
        self.code = code
        self.index = index
    }

    /// No secret was given.
    public static let noSecrets = WebhookSecretError(code: .noSecrets, index: nil)

    /// The secret at `index` is empty.
    public static func emptySecret(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .emptySecret, index: index)
    }

    /// The secret at `index` is not a valid `whsec_` secret.
    public static func invalidStandardSecret(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .invalidStandardSecret, index: index)
    }

    /// The key at `index` is not a valid `whsk_` ed25519 secret key.
    public static func invalidSigningKey(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .invalidSigningKey, index: index)
    }

    /// The key at `index` is not a valid `whpk_` ed25519 public key.
    public static func invalidPublicKey(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .invalidPublicKey, index: index)
    }

    /// The key at `index` is a `whpk_` public key, which verifies but cannot sign.
    public static func publicKeyCannotSign(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .publicKeyCannotSign, index: index)
    }

    /// The key at `index` is an ed25519 key, which only the `standard` scheme uses.
    public static func asymmetricKeyNotForScheme(index: Int?) -> WebhookSecretError {
        WebhookSecretError(code: .asymmetricKeyNotForScheme, index: index)
    }

    /// The same error, now naming the position of the secret in its list.
    func at(index: Int) -> WebhookSecretError {
        WebhookSecretError(code: code, index: index)
    }

    /// What failed and what to do about it; never contains a secret.
    public var description: String {
        let which = index.map { "secret #\($0 + 1) (index \($0))" } ?? "the secret"
        switch code {
        case .noSecrets:
            return "No webhook secret was given; configure at least one secret."
        case .emptySecret:
            return "Webhook \(which) is empty; set it to the shared secret or remove it from the list."
        case .invalidSigningKey:
            return "Webhook \(which) is not a valid ed25519 secret key: it must be \"whsk_\" followed by the 32-byte "
                + "private key in standard base64 (or 64 bytes: it and its public key); generate a pair with `hookspool secret --asymmetric`."
        case .invalidPublicKey:
            return "Webhook \(which) is not a valid ed25519 public key: it must be \"whpk_\" followed by the 32-byte "
                + "public key in standard base64, as `hookspool secret --asymmetric` prints it."
        case .asymmetricKeyNotForScheme:
            return "Webhook \(which) is a whsk_/whpk_ ed25519 key, which only signature: standard uses (v1a); "
                + "this scheme signs with HMAC-SHA256 and needs a shared secret (`hookspool secret` prints one)."
        case .publicKeyCannotSign:
            return "Webhook \(which) is a whpk_ public key, which can only verify; sign with its whsk_ secret key "
                + "and give the whpk_ key to the receiver."
        default:
            return "Webhook \(which) is not a valid Standard Webhooks secret: it must be \"whsec_\" followed by "
                + "the key in standard base64 (padding optional, at least one byte), or a \"whsk_\" ed25519 key; "
                + "generate one with `hookspool secret` (or `hookspool secret --asymmetric`)."
        }
    }
}
