import NIOCore
import Synchronization

/// A counting semaphore for tasks and callbacks: `acquire()` suspends while all permits are taken;
/// waiters get their permit in FIFO order.
///
/// A callback waiter (`acquire(then:)`) is called on the thread that frees its permit, so that the
/// work it starts (a request) leaves at once instead of after a task switch.
final class AsyncSemaphore: Sendable {
    /// What a waiter is given its permit through.
    private enum Grant {
        case task(CheckedContinuation<Bool, Never>)
        case call(@Sendable () -> Void)
    }

    private struct Waiter {
        var grant: Grant
        /// When a timed wait gives up, on the clock's `uptime`; nil for a wait without patience.
        var deadline: Duration?

        /// Hands the waiter its permit (outside the lock).
        func give() {
            switch grant {
            case .task(let continuation): continuation.resume(returning: true)
            case .call(let body): body()
            }
        }
    }

    private struct State {
        var available: Int
        var waiters = CircularBuffer<Waiter>()
        var lastRelease: Duration
        /// When the timer that ends the timed waits past their deadline fires, if one is set.
        var sweepAt: Duration?
    }

    private let state: Mutex<State>
    private let clock: any RunClock
    private let permits: Int

    init(permits: Int, clock: any RunClock = SystemClock()) {
        precondition(permits > 0, "a semaphore needs at least one permit")
        self.clock = clock
        self.permits = permits
        state = Mutex(State(available: permits, lastRelease: clock.uptime))
    }

    /// Takes a permit, waiting for one if none is free.
    func acquire() async {
        _ = await acquire(within: nil)
    }

    /// Takes a permit, waiting at most `patience` for one; returns whether it got one.
    ///
    /// One timer serves all the timed waits: set for the earliest deadline and, when it fires,
    /// for the next; a wait that gets its permit leaves it running. The reader waits like this
    /// for nearly every delivery, and a timer set and cancelled for each wait took a tenth of
    /// the task threads' samples.
    func acquire(within patience: Duration?) async -> Bool {
        // Fast path without allocating a continuation.
        if tryTake() { return true }
        return await withCheckedContinuation { continuation in
            let deadline = patience.map { clock.uptime + $0 }
            let (granted, sweep) = state.withLock { state -> (Bool, Duration?) in
                if state.available > 0 {
                    state.available -= 1
                    return (true, nil)
                }
                state.waiters.append(Waiter(grant: .task(continuation), deadline: deadline))
                guard let deadline, state.sweepAt.map({ deadline < $0 }) ?? true else { return (false, nil) }
                state.sweepAt = deadline
                return (false, deadline)
            }
            if granted {
                continuation.resume(returning: true)
            } else if let sweep {
                setSweep(at: sweep)
            }
        }
    }

    /// Takes a permit and calls `granted`: now, on this thread, if one is free and nobody waits;
    /// else on the thread that frees one, in turn. Holding no lock either way.
    func acquire(then granted: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.available > 0 && state.waiters.isEmpty {
                state.available -= 1
                return true
            }
            state.waiters.append(Waiter(grant: .call(granted)))
            return false
        }
        if now { granted() }
    }

    private func tryTake() -> Bool {
        state.withLock { state -> Bool in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
    }

    /// Sets a timer to end the timed waits due by `time`.
    private func setSweep(at time: Duration) {
        _ = clock.schedule(after: max(time - clock.uptime, .zero)) { [self] in sweep(setFor: time) }
    }

    /// Ends the timed waits past their deadline, without a permit, and sets the timer for the
    /// next deadline if no timer set for it or sooner is running.
    private func sweep(setFor time: Duration) {
        let now = clock.uptime
        let (expired, next) = state.withLock { state -> ([CheckedContinuation<Bool, Never>], Duration?) in
            if state.sweepAt == time { state.sweepAt = nil }
            var expired: [CheckedContinuation<Bool, Never>] = []
            var earliest: Duration?
            for waiter in state.waiters {
                guard let deadline = waiter.deadline else { continue }
                if deadline <= now, case .task(let continuation) = waiter.grant {
                    expired.append(continuation)
                } else {
                    earliest = min(earliest ?? deadline, deadline)
                }
            }
            if !expired.isEmpty { state.waiters.removeAll { $0.deadline.map { $0 <= now } ?? false } }
            guard let earliest, state.sweepAt.map({ earliest < $0 }) ?? true else { return (expired, nil) }
            state.sweepAt = earliest
            return (expired, earliest)
        }
        for continuation in expired { continuation.resume(returning: false) }
        if let next { setSweep(at: next) }
    }

    /// Takes a permit if one is free (and nobody waits for one); never waits.
    func tryAcquire() -> Bool {
        state.withLock { state in
            guard state.available > 0, state.waiters.isEmpty else { return false }
            state.available -= 1
            return true
        }
    }

    /// Permits held now.
    var taken: Int {
        permits - state.withLock { $0.available }
    }

    /// Waits queued now.
    var waiting: Int {
        state.withLock { $0.waiters.count }
    }

    /// Whether a permit is free, and when (on the clock's `uptime`) one was last returned.
    var activity: (free: Bool, lastRelease: Duration) {
        state.withLock { ($0.available > 0, $0.lastRelease) }
    }

    /// Returns a permit, handing it straight to the longest waiter if there is one (a callback
    /// waiter runs here, on this thread).
    func release() {
        let now = clock.uptime
        let waiter = state.withLock { state -> Waiter? in
            state.lastRelease = now
            if let next = state.waiters.popFirst() { return next }
            state.available += 1
            return nil
        }
        waiter?.give()
    }
}
