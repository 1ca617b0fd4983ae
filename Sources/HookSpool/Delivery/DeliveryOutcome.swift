/// How one delivery (an event to one endpoint) ended in this run.
enum DeliveryOutcome: Sendable, Equatable {
    case delivered
    case failed(DeliveryFailure)
    /// Left for a later run; `firstAttempt` (unix seconds) starts its `retry_for` window, and
    /// `notBefore` (unix seconds) is when the endpoint said it may be tried again, if it did.
    case deferred(DeliveryFailure, firstAttempt: Int64, notBefore: Int64?)
    /// The run is stopping; the delivery is still pending.
    case interrupted
    /// Not attempted: an earlier delivery to the fifo endpoint is left for later; still pending,
    /// with no `retry_for` window started. `until` (unix seconds) is when the file that holds it
    /// is next due, if it waits in `deferred/`.
    case held(until: Int64?)
}

/// What a delivery that did not succeed came to: its attempts, the last answer, and why.
struct DeliveryFailure: Sendable, Equatable {
    var attempts: Int
    /// Null when no HTTP answer came.
    var lastStatus: Int?
    var reason: FailureReason
    /// The start of the last answer's body.
    var responseExcerpt: String?

    /// The failure of a finished attempt: its status (or transport failure) and body excerpt.
    init(after attempt: Attempt) {
        attempts = attempt.number
        switch attempt.result {
        case .response(let status):
            lastStatus = status
            reason = FailureReason(status: status)
            responseExcerpt = attempt.responseExcerpt
        case .failure(let failure):
            reason = .transport(failure)
        }
    }

    init(attempts: Int, lastStatus: Int? = nil, reason: FailureReason, responseExcerpt: String? = nil) {
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.reason = reason
        self.responseExcerpt = responseExcerpt
    }
}

/// Why a delivery did not succeed; `word` is the report's `last_error`.
enum FailureReason: Sendable, Equatable {
    /// No HTTP answer came.
    case transport(AttemptFailure)
    /// A status that no retry will change (4xx but 408, 425, 429).
    case rejected
    /// A 3xx: redirects are not followed.
    case redirectNotFollowed
    /// A retryable status, and no attempts or time are left.
    case retriesExhausted
    /// The endpoint's circuit opened in this run.
    case circuitOpen
    /// The endpoint is disabled until `hookspool endpoints enable`.
    case endpointDisabled
    /// The endpoint asked, with `Retry-After`, to wait longer than this run waits.
    case retryAfter
    /// The endpoint asked to wait until after `retry_for` runs out.
    case retryAfterPastRetryFor
    /// Any other word (read back from an older journal).
    case other(String)

    /// The reason for a final status.
    init(status: Int) {
        switch status {
        case 300...399: self = .redirectNotFollowed
        case 408, 425, 429, 500...599: self = .retriesExhausted
        default: self = .rejected
        }
    }

    /// The reason `word` names.
    init(word: String) {
        if let failure = AttemptFailure(rawValue: word) {
            self = .transport(failure)
            return
        }
        switch word {
        case "rejected": self = .rejected
        case "redirect_not_followed": self = .redirectNotFollowed
        case "retries_exhausted": self = .retriesExhausted
        case "circuit_open": self = .circuitOpen
        case "endpoint_disabled": self = .endpointDisabled
        case "retry_after": self = .retryAfter
        case "retry_after_past_retry_for": self = .retryAfterPastRetryFor
        default: self = .other(word)
        }
    }

    /// The report's `last_error` word.
    var word: String {
        switch self {
        case .transport(let failure): return failure.rawValue
        case .rejected: return "rejected"
        case .redirectNotFollowed: return "redirect_not_followed"
        case .retriesExhausted: return "retries_exhausted"
        case .circuitOpen: return "circuit_open"
        case .endpointDisabled: return "endpoint_disabled"
        case .retryAfter: return "retry_after"
        case .retryAfterPastRetryFor: return "retry_after_past_retry_for"
        case .other(let word): return word
        }
    }
}
