import Dispatch
import Synchronization

/// Runs two pieces of work at once, on a second thread when one is free, and gives both results.
///
/// The calling thread takes part, so this finishes even when no other thread is free.
func sideBySide<A: Sendable, B: Sendable>(_ first: @Sendable () -> A, _ second: @Sendable () -> B) -> (A, B) {
    let results = Results<A, B>()
    DispatchQueue.concurrentPerform(iterations: 2) { part in
        if part == 0 {
            let value = first()
            results.first.withLock { $0 = value }
        } else {
            let value = second()
            results.second.withLock { $0 = value }
        }
    }
    // concurrentPerform returns once both parts have run, so both are set; the fallbacks keep it total.
    return (results.first.withLock { $0 } ?? first(), results.second.withLock { $0 } ?? second())
}

private final class Results<A: Sendable, B: Sendable>: Sendable {
    let first = Mutex<A?>(nil)
    let second = Mutex<B?>(nil)
}
