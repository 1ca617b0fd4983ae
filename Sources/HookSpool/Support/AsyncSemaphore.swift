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
        var id: UInt64
        var grant: Grant
        /// Ends a timed wait when its patience runs out; cancelled when a permit comes first.
        var timer: RunTimer?

        /// Hands the waiter its permit (outside the lock).
        func give() {
            timer?.cancel()
            switch grant {
            case .task(let continuation): continuation.resume(returning: true)
            case .call(let body): body()
            }
        }
    }

    private struct State {
        var available: Int
        var waiters = CircularBuffer<Waiter>()
        var nextID: UInt64 = 0
        var lastRelease: Duration
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
    func acquire(within patience: Duration?) async -> Bool {
        // Fast path without allocating a continuation.
        if tryTake() { return true }
        return await withCheckedContinuation { continuation in
            let id = state.withLock { state -> UInt64? in
                if state.available > 0 {
                    state.available -= 1
                    return nil
                }
                state.nextID += 1
                state.waiters.append(Waiter(id: state.nextID, grant: .task(continuation)))
                return state.nextID
            }
            guard let id else {
                continuation.resume(returning: true)
                return
            }
            if let patience {
                // A clock timer, not a task: the reader waits like this for nearly every delivery.
                let timer = clock.schedule(after: patience) { [self] in self.giveUp(id) }
                let waiting = state.withLock { state -> Bool in
                    guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return false }
                    state.waiters[index].timer = timer
                    return true
                }
                if !waiting { timer.cancel() }
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
            state.nextID += 1
            state.waiters.append(Waiter(id: state.nextID, grant: .call(granted)))
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

    /// A timed waiter's patience ran out: it leaves the queue without a permit (unless it got one meanwhile).
    private func giveUp(_ id: UInt64) {
        let waiter = state.withLock { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        if case .task(let continuation)? = waiter?.grant { continuation.resume(returning: false) }
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
