import Synchronization
import Testing
@testable import HookSpool

@Suite("Run clock")
struct RunClockTests {
    @Test("the system clock's timer calls back after its delay; a cancelled one never does")
    func systemTimer() async {
        let clock = SystemClock()
        let cancelledFired = Mutex(false)
        let cancelled = clock.schedule(after: .milliseconds(20)) { cancelledFired.withLock { $0 = true } }
        cancelled.cancel()
        let start = clock.uptime
        // A later timer as the reference: when it has fired, the cancelled one's time is long past.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            _ = clock.schedule(after: .milliseconds(80)) { continuation.resume() }
        }
        #expect(clock.uptime - start >= .milliseconds(80))
        #expect(!cancelledFired.withLock { $0 })
    }
}
