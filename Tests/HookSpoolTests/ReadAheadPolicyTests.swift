import Synchronization
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

    @Test("timed waits share one timer: a wait that gets its permit sets none, and the timer stops once no timed wait is left")
    func oneTimer() async {
        let clock = CountingClock()
        let share = AsyncSemaphore(permits: 1, clock: clock)
        _ = share.tryAcquire()
        for _ in 0..<50 {
            let waiter = Task { await share.acquire(within: .seconds(1)) }
            while share.waiting == 0 { await Task.yield() }
            share.release()
            #expect(await waiter.value)
        }
        #expect(clock.timers == 1)
        // That timer, set for the first wait's deadline, ends a wait still there then.
        let late = Task { await share.acquire(within: .seconds(1)) }
        while share.waiting == 0 { await Task.yield() }
        #expect(clock.timers == 1)
        await clock.base.untilSleeping(1)
        clock.base.advance(by: .seconds(1))
        #expect(await late.value == false)
        // No wait was left: the next one sets a timer again.
        let later = Task { await share.acquire(within: .seconds(1)) }
        while share.waiting == 0 { await Task.yield() }
        await clock.base.untilSleeping(1)
        #expect(clock.timers == 2)
        clock.base.advance(by: .seconds(1))
        #expect(await later.value == false)
    }

    @Test("each timed wait gives up at its own deadline, a sooner one first")
    func ownDeadlines() async {
        let clock = TestClock()
        let share = AsyncSemaphore(permits: 1, clock: clock)
        _ = share.tryAcquire()
        let patient = Task { await share.acquire(within: .seconds(3)) }
        while share.waiting < 1 { await Task.yield() }
        let hasty = Task { await share.acquire(within: .seconds(1)) }
        while share.waiting < 2 { await Task.yield() }
        // A timer for the hasty wait, sooner than the one for the patient wait.
        await clock.untilSleeping(2)
        clock.advance(by: .seconds(1))
        #expect(await hasty.value == false)
        #expect(share.waiting == 1)
        await clock.untilSleeping(1)
        clock.advance(by: .seconds(1))
        #expect(share.waiting == 1)
        clock.advance(by: .seconds(1))
        #expect(await patient.value == false)
        #expect(share.waiting == 0)
    }
}

/// A test clock that counts the timers set on it.
private final class CountingClock: RunClock {
    let base = TestClock()
    private let count = Atomic<Int>(0)

    var timers: Int { count.load(ordering: .relaxed) }
    var uptime: Duration { base.uptime }
    var unixTime: Double { base.unixTime }

    func sleep(for duration: Duration) async {
        await base.sleep(for: duration)
    }

    func schedule(after duration: Duration, _ body: @escaping @Sendable () -> Void) -> RunTimer {
        count.add(1, ordering: .relaxed)
        return base.schedule(after: duration, body)
    }
}
