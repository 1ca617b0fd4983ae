import NIOCore
import Synchronization

/// A counting semaphore for tasks: `acquire()` suspends while all permits are taken; waiters resume in FIFO order.
final class AsyncSemaphore: Sendable {
    private struct State {
        var available: Int
        var waiters = CircularBuffer<CheckedContinuation<Void, Never>>()
    }

    private let state: Mutex<State>

    init(permits: Int) {
        precondition(permits > 0, "a semaphore needs at least one permit")
        state = Mutex(State(available: permits))
    }

    /// Takes a permit, waiting for one if none is free.
    func acquire() async {
        // Fast path without allocating a continuation.
        let acquired = state.withLock { state -> Bool in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }
        if acquired { return }
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns a permit, handing it straight to the longest waiter if there is one.
    func release() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let next = state.waiters.popFirst() { return next }
            state.available += 1
            return nil
        }
        waiter?.resume()
    }
}
