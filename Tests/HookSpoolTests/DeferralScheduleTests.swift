import Testing
@testable import HookSpool

/// Always the same "random" number: the middle of any range.
struct MiddleRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 { UInt64.max / 2 }
}

@Suite("Deferral schedule")
struct DeferralScheduleTests {
    @Test("the n-th deferral waits the schedule's n-th entry, the last repeating; five minutes with no schedule")
    func steps() {
        var random = MiddleRandom()
        let schedule = DeferralSchedule(steps: [.seconds(60), .seconds(600)])
        #expect(schedule.next(now: 1000, deferrals: 0, interruptedOnly: false, notBefore: nil, using: &random) == (1060, 1))
        #expect(schedule.next(now: 1000, deferrals: 1, interruptedOnly: false, notBefore: nil, using: &random) == (1600, 2))
        #expect(schedule.next(now: 1000, deferrals: 7, interruptedOnly: false, notBefore: nil, using: &random) == (1600, 8))
        #expect(DeferralSchedule(steps: []).delay(1, using: &random) == 300)
    }

    @Test("every wait is within ±10% of its entry, and at least a second")
    func jitter() {
        var random = SystemRandomNumberGenerator()
        let schedule = DeferralSchedule(steps: [.seconds(100)])
        for _ in 0..<200 {
            #expect((90...110).contains(schedule.delay(1, using: &random)))
        }
        #expect(DeferralSchedule(steps: [.milliseconds(10)]).delay(1, using: &random) == 1)
    }

    @Test("a file left only by a stop is due at once and not counted (only held for order, when what holds it is due); none is due before an endpoint's Retry-After")
    func stopAndRetryAfter() {
        var random = MiddleRandom()
        let schedule = DeferralSchedule(steps: [.seconds(60)])
        #expect(schedule.next(now: 1000, deferrals: 3, interruptedOnly: true, notBefore: nil, using: &random) == (1000, nil))
        #expect(schedule.next(now: 1000, deferrals: 3, interruptedOnly: true, notBefore: 5000, using: &random) == (5000, nil))
        #expect(schedule.next(now: 1000, deferrals: 3, interruptedOnly: true, notBefore: 10, using: &random) == (1000, nil))
        #expect(schedule.next(now: 1000, deferrals: 0, interruptedOnly: false, notBefore: 5000, using: &random) == (5000, 1))
        #expect(schedule.next(now: .max - 10, deferrals: 0, interruptedOnly: false, notBefore: nil, using: &random).due == .max)
    }
}
