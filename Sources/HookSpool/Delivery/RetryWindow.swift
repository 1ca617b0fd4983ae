/// Whether a delivery that cannot be made in this run waits for a later one or fails for good:
/// it waits while `retry_for` has not run out since its first attempt (and, when the endpoint
/// asked to wait until some time, has not run out by then either).
struct RetryWindow: Sendable, Equatable {
    /// How long after its first attempt a delivery may still be deferred; zero never defers.
    var retryFor: Duration

    /// The outcome of a delivery left with `failure` at `now` (unix seconds), first tried at
    /// `firstAttempt`; `notBefore` is when the endpoint said it may be tried again, if it did.
    /// A disabled endpoint's deliveries always wait: `endpoints enable` is the way out, not time.
    func outcome(_ failure: DeliveryFailure, firstAttempt: Int64, notBefore: Double?, now: Int64) -> DeliveryOutcome {
        if failure.reason == .endpointDisabled {
            return .deferred(failure, firstAttempt: firstAttempt, notBefore: nil)
        }
        let due = notBefore.map { $0 < 9e18 ? Int64($0.rounded(.up)) : Int64.max }
        let (end, overflow) = firstAttempt.addingReportingOverflow(retryFor.components.seconds)
        let windowEnd = overflow ? Int64.max : end
        if retryFor > .zero && now < windowEnd && (due ?? now) < windowEnd {
            return .deferred(failure, firstAttempt: firstAttempt, notBefore: due)
        }
        var failure = failure
        if retryFor > .zero && now < windowEnd {
            // Only the endpoint's wait ends past retry_for: say so, rather than "retries exhausted".
            failure.reason = .retryAfterPastRetryFor
        }
        return .failed(failure)
    }
}
