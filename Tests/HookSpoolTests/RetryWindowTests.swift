import Testing
@testable import HookSpool

@Suite("Retry window (retry_for)")
struct RetryWindowTests {
    let failure = DeliveryFailure(attempts: 3, lastStatus: 503, reason: .retriesExhausted)

    @Test("deferred while retry_for has not run out since the first attempt; failed for good after, or always with retry_for zero")
    func window() {
        let hour = RetryWindow(retryFor: .seconds(3600))
        #expect(hour.outcome(failure, firstAttempt: 1000, notBefore: nil, now: 4599) == .deferred(failure, firstAttempt: 1000, notBefore: nil))
        #expect(hour.outcome(failure, firstAttempt: 1000, notBefore: nil, now: 4600) == .failed(failure))
        #expect(RetryWindow(retryFor: .zero).outcome(failure, firstAttempt: 1000, notBefore: nil, now: 1000) == .failed(failure))
    }

    @Test("an endpoint's wait is due rounded up; one ending past retry_for fails with its own word")
    func notBefore() {
        let hour = RetryWindow(retryFor: .seconds(3600))
        #expect(hour.outcome(failure, firstAttempt: 1000, notBefore: 2000.2, now: 1500) == .deferred(failure, firstAttempt: 1000, notBefore: 2001))
        var past = failure
        past.reason = .retryAfterPastRetryFor
        #expect(hour.outcome(failure, firstAttempt: 1000, notBefore: 5000, now: 1500) == .failed(past))
        #expect(hour.outcome(failure, firstAttempt: .max - 5, notBefore: 1e30, now: 1500) == .failed(past))
    }

    @Test("a disabled endpoint's deliveries always wait, whatever the time")
    func disabled() {
        let disabled = DeliveryFailure(attempts: 0, reason: .endpointDisabled)
        #expect(RetryWindow(retryFor: .zero).outcome(disabled, firstAttempt: 0, notBefore: 99, now: 1 << 40) == .deferred(disabled, firstAttempt: 0, notBefore: nil))
    }

    @Test("every reason's word reads back as the same reason")
    func words() {
        let reasons: [FailureReason] = [
            .rejected, .redirectNotFollowed, .retriesExhausted, .circuitOpen, .endpointDisabled, .retryAfter, .retryAfterPastRetryFor, .other("x"),
        ] + AttemptFailure.allCases.map { .transport($0) }
        for reason in reasons { #expect(FailureReason(word: reason.word) == reason) }
        #expect(FailureReason(status: 429) == .retriesExhausted)
        #expect(FailureReason(status: 404) == .rejected)
    }
}
