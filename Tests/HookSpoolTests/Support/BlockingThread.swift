import Foundation

/// Runs blocking work (a child's pipe read, a process wait) on a thread of its own.
///
/// Not on the cooperative pool, which the in-process receivers answer from, and not on
/// Dispatch's global queues either: libdispatch adds a thread for blocked workers only about
/// once a second, so a few long-lived children there stall everything else for seconds.
enum BlockingThread {
    /// Starts `work` on a new thread and returns at once.
    static func detach(_ work: @escaping @Sendable () -> Void) {
        let thread = Thread { work() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Runs `work` on a new thread and waits for its result without blocking the caller's thread.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            detach { continuation.resume(with: Result { try work() }) }
        }
    }
}
