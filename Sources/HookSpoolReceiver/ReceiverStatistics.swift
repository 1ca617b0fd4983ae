import Synchronization
import WebhookSignature

/// Counts of what a `VerifyingReceiver` did with its requests, safe to update from every request at once.
public final class ReceiverStatistics: Sendable {
    /// Why a request was refused; the raw value is the name in the summary line.
    public enum Rejection: String, Sendable, Hashable, CaseIterable {
        case methodNotAllowed = "method_not_allowed"
        case forbiddenAddress = "forbidden_address"
        case bodyTooLarge = "body_too_large"
        case missingHeader = "missing_header"
        case malformedHeader = "malformed_header"
        case noMatchingSignature = "no_matching_signature"
        case timestampTooOld = "timestamp_too_old"
        case timestampTooNew = "timestamp_too_new"
        case invalidBody = "invalid_body"
        case noEventID = "no_event_id"
        case idMismatch = "id_mismatch"
        case storageError = "storage_error"

        /// The rejection for a failed signature check.
        public init(_ error: WebhookVerificationError) {
            switch error.code {
            case .missingHeader: self = .missingHeader
            case .malformedHeader: self = .malformedHeader
            case .timestampTooOld: self = .timestampTooOld
            case .timestampTooNew: self = .timestampTooNew
            default: self = .noMatchingSignature
            }
        }
    }

    /// A copy of the counts at one moment.
    public struct Snapshot: Sendable, Hashable {
        /// Every request that arrived.
        public var received = 0
        /// Events stored for the first time.
        public var accepted = 0
        /// Verified deliveries of an event already stored, answered 2xx and not stored again.
        public var duplicates = 0
        /// Verified requests answered with a failure on purpose (`--fail-first`, or a non-2xx `--status`).
        public var failedOnPurpose = 0
        /// Refused requests by reason.
        public var rejected: [Rejection: Int] = [:]

        /// All refused requests.
        public var rejectedTotal: Int { rejected.values.reduce(0, +) }

        /// One line of `key=value` pairs, as the example receivers print theirs, e.g.
        /// `counts: received=5 accepted=3 duplicates=1 failed_on_purpose=0 rejected=1 rejected.no_matching_signature=1`.
        public var summary: String {
            var line = "counts: received=\(received) accepted=\(accepted) duplicates=\(duplicates) "
                + "failed_on_purpose=\(failedOnPurpose) rejected=\(rejectedTotal)"
            for (reason, count) in rejected.sorted(by: { $0.key.rawValue < $1.key.rawValue }) where count > 0 {
                line += " rejected.\(reason.rawValue)=\(count)"
            }
            return line
        }
    }

    private let counts = Mutex(Snapshot())

    /// Starts with every count at zero.
    public init() {}

    /// The counts now.
    public var snapshot: Snapshot { counts.withLock { $0 } }

    func countReceived() { counts.withLock { $0.received += 1 } }
    func countAccepted() { counts.withLock { $0.accepted += 1 } }
    func countDuplicate() { counts.withLock { $0.duplicates += 1 } }
    func countFailedOnPurpose() { counts.withLock { $0.failedOnPurpose += 1 } }
    func countRejected(_ reason: Rejection) { counts.withLock { $0.rejected[reason, default: 0] += 1 } }
}
