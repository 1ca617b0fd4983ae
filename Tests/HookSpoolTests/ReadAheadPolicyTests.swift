import Testing
@testable import HookSpool

@Suite("Read-ahead policy (shares)")
struct ReadAheadPolicyTests {
    let policy = ReadAheadPolicy()

    @Test("the window is 2 deliveries per request in flight, between 1,024 and 16,384; several endpoints split it, at least 16 each")
    func sizes() {
        #expect(ReadAheadPolicy.window(concurrency: 1) == 1024)
        #expect(ReadAheadPolicy.window(concurrency: 128) == 1024)
        #expect(ReadAheadPolicy.window(concurrency: 2048) == 4096)
        #expect(ReadAheadPolicy.window(concurrency: 10_000) == 16_384)
        #expect(ReadAheadPolicy.share(window: 1024, endpoints: 1) == 1024)
        #expect(ReadAheadPolicy.share(window: 1024, endpoints: 4) == 256)
        #expect(ReadAheadPolicy.share(window: 1024, endpoints: 200) == 16)
    }

    @Test("a full share is waited for, unless the endpoint lagged before: then it is left behind, or the file left when others wait")
    func whenFull() {
        #expect(policy.whenFull(lagging: false, mayLeave: true) == .wait)
        #expect(policy.whenFull(lagging: true, mayLeave: false) == .behind)
        #expect(policy.whenFull(lagging: true, mayLeave: true) == .leave)
    }

    @Test("after the patience: behind while another endpoint moves; else leave when other files wait; else wait on")
    func afterPatience() {
        #expect(policy.afterPatience(othersMoving: true, mayLeave: true) == .behind)
        #expect(policy.afterPatience(othersMoving: false, mayLeave: true) == .leave)
        #expect(policy.afterPatience(othersMoving: false, mayLeave: false) == .wait)
    }

    @Test("a share moves while a place is free or one came back within the patience")
    func moving() {
        let now = Duration.seconds(100)
        #expect(policy.isMoving(free: true, lastRelease: .zero, now: now))
        #expect(policy.isMoving(free: false, lastRelease: now - .milliseconds(999), now: now))
        #expect(!policy.isMoving(free: false, lastRelease: now - .seconds(1), now: now))
    }

    @Test("a share's activity is read on its clock: the last release is the clock's time then")
    func clockedActivity() async {
        let clock = TestClock()
        let share = AsyncSemaphore(permits: 1, clock: clock)
        #expect(await share.acquire(within: nil))
        #expect(share.activity.free == false)
        clock.advance(by: .seconds(5))
        share.release()
        #expect(share.activity.lastRelease == .seconds(5))
        #expect(share.activity.free)
    }

    @Test("a timed wait for a full share gives up when the clock passes its patience, and not before")
    func timedWait() async {
        let clock = TestClock()
        let share = AsyncSemaphore(permits: 1, clock: clock)
        _ = share.tryAcquire()
        let got = await clock.run { await share.acquire(within: .seconds(1)) }
        #expect(!got)
        #expect(clock.uptime == .seconds(1))
    }
}
