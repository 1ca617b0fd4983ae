import Foundation
import Testing
@testable import HookSpool

/// `RetryPolicy`: the backoff between attempts and the Retry-After values it reads.
@Suite("Retry policy")
struct RetryPolicyTests {
    @Test("backoff: exponential ceilings, full jitter within them, capped")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, backoff: Backoff(initial: .seconds(1), max: .seconds(60)))
        #expect(policy.ceiling(afterAttempt: 1) == .seconds(1))
        #expect(policy.ceiling(afterAttempt: 2) == .seconds(2))
        #expect(policy.ceiling(afterAttempt: 4) == .seconds(8))
        #expect(policy.ceiling(afterAttempt: 7) == .seconds(60))
        #expect(policy.ceiling(afterAttempt: 500) == .seconds(60))
        var random = SystemRandomNumberGenerator()
        var delays: [Duration] = []
        for _ in 0..<200 {
            let delay = policy.delay(afterAttempt: 3, retryAfter: nil, using: &random)
            #expect(delay >= .zero && delay <= .seconds(4))
            delays.append(delay)
        }
        #expect(Set(delays).count > 50, "jitter should spread the delays")
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(30), using: &random) == .seconds(30))
        // Never cut to the backoff's cap: a longer wait is the dispatcher's to defer, not to shorten.
        #expect(policy.delay(afterAttempt: 1, retryAfter: .seconds(3600), using: &random) == .seconds(3600))
    }

    @Test("Retry-After: seconds and the three HTTP date forms")
    func retryAfter() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(RetryPolicy.parseRetryAfter("120", now: now) == .seconds(120))
        #expect(RetryPolicy.parseRetryAfter(" 0 ", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now: now) == .seconds(30))
        #expect(RetryPolicy.parseRetryAfter("Tuesday, 14-Nov-23 22:14:20 GMT", now: now) == .seconds(60))
        #expect(RetryPolicy.parseRetryAfter("Tue Nov 14 22:13:30 2023", now: now) == .seconds(10))
        #expect(RetryPolicy.parseRetryAfter("Mon, 13 Nov 2023 00:00:00 GMT", now: now) == .zero)
        #expect(RetryPolicy.parseRetryAfter("soon", now: now) == nil)
        #expect(RetryPolicy.parseRetryAfter("-5", now: now) == nil)
        // An endpoint's number, however large, never traps and is never read as shorter than it is.
        #expect(RetryPolicy.parseRetryAfter("99999999999999999999999999", now: now) == RetryPolicy.longestRetryAfter)
        #expect(RetryPolicy.parseRetryAfter("0000000000000005", now: now) == .seconds(5))
        #expect(RetryPolicy.parseRetryAfter("Fri, 31 Dec 9999 23:59:59 GMT", now: now) == RetryPolicy.longestRetryAfter)
    }
}
