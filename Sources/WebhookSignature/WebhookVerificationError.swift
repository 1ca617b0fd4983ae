/// Why a delivery failed verification; names headers but never secrets or signature values.
public struct WebhookVerificationError: Error, Hashable, CustomStringConvertible {
    /// What kind of failure it is; match on this in code and tests.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case missingHeader
            case malformedHeader
            case noMatchingSignature
            case timestampTooOld
            case timestampTooNew
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// A header the scheme requires is absent.
        public static let missingHeader = Code(.missingHeader)
        /// A header is present but cannot be parsed.
        public static let malformedHeader = Code(.malformedHeader)
        /// No signature in the delivery matches the body under any configured secret.
        public static let noMatchingSignature = Code(.noMatchingSignature)
        /// The signed timestamp is further in the past than the tolerance allows.
        public static let timestampTooOld = Code(.timestampTooOld)
        /// The signed timestamp is further in the future than the tolerance allows.
        public static let timestampTooNew = Code(.timestampTooNew)

        /// The code's name, e.g. `missingHeader`.
        public var description: String {
            switch base {
            case .missingHeader: "missingHeader"
            case .malformedHeader: "malformedHeader"
            case .noMatchingSignature: "noMatchingSignature"
            case .timestampTooOld: "timestampTooOld"
            case .timestampTooNew: "timestampTooNew"
            }
        }
    }

    /// What kind of failure it is.
    public let code: Code
    /// The header concerned (as the signer spells it), or `nil` for signature mismatches.
    public let header: String?

    private init(code: Code, header: String?) {
        self.code = code
        self.header = header
    }

    /// The header `name` is absent.
    public static func missingHeader(_ name: String) -> WebhookVerificationError {
        WebhookVerificationError(code: .missingHeader, header: name)
    }

    /// The header `name` is present but cannot be parsed.
    public static func malformedHeader(_ name: String) -> WebhookVerificationError {
        WebhookVerificationError(code: .malformedHeader, header: name)
    }

    /// No listed signature matches under any configured secret.
    public static let noMatchingSignature = WebhookVerificationError(code: .noMatchingSignature, header: nil)

    /// The timestamp in `header` is too far in the past.
    public static func timestampTooOld(_ header: String) -> WebhookVerificationError {
        WebhookVerificationError(code: .timestampTooOld, header: header)
    }

    /// The timestamp in `header` is too far in the future.
    public static func timestampTooNew(_ header: String) -> WebhookVerificationError {
        WebhookVerificationError(code: .timestampTooNew, header: header)
    }

    /// What failed and what to do about it; never contains a secret.
    public var description: String {
        let name = header ?? "signature"
        switch code {
        case .missingHeader:
            return "The \(name) header is missing; check that the sender uses the same signature scheme."
        case .malformedHeader:
            return "The \(name) header cannot be parsed; check that the sender uses the same signature scheme and that no proxy rewrites it."
        case .timestampTooOld:
            return "The \(name) header is older than the allowed tolerance; the delivery may be a replay, or the sender's or receiver's clock is off."
        case .timestampTooNew:
            return "The \(name) header is further in the future than the allowed tolerance; the sender's or receiver's clock is off."
        default:
            return "No signature matches the body under any configured secret; check the secret, and that the body reaches the verifier byte for byte unchanged."
        }
    }
}
