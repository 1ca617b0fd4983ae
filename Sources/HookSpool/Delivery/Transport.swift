import NIOCore
import Synchronization

/// Sends one endpoint's attempts: the HTTP transport in a run, a scripted one in tests.
protocol Transport: Sendable {
    /// Starts a POST of `body` with this attempt's own `headers` (its signature; the transport adds
    /// the endpoint's and `Content-Length`); the attempt, connect to last byte, ends at `timeout`.
    /// Never fails: whatever happens becomes the `Attempt` given to `answered`, once, on whichever
    /// thread learns it (before `start` returns when it is known at once).
    func start(
        headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int,
        answered: @escaping @Sendable (Attempt) -> Void
    ) -> AttemptHandle
    /// Closes what the transport keeps open.
    func shutdown() async
    /// Closes the idle connections that the endpoint's `pending` deliveries (those not finished,
    /// the ones sending now included) could not all take.
    func closeSpare(pending: Int)
}

extension Transport {
    /// Keeps nothing idle to close (a scripted transport).
    func closeSpare(pending: Int) {}

    /// POSTs as `start` does and waits for the attempt; cancelling the task abandons the request.
    func post(headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int) async -> Attempt {
        await AttemptHandle.waiting { answered in
            start(headers: headers, body: body, timeout: timeout, attempt: number, answered: answered)
        }
    }
}

/// An attempt under way, which its starter may abandon.
struct AttemptHandle: Sendable {
    private let cancelling: (@Sendable () -> Void)?

    /// `cancel` abandons the attempt: it ends soon after, as a failure, unless its answer came first.
    init(cancel: @escaping @Sendable () -> Void) {
        cancelling = cancel
    }

    private init() {
        cancelling = nil
    }

    /// An attempt that cannot be abandoned (it is over, or nothing is under way to stop).
    static let done = AttemptHandle()

    func cancel() {
        cancelling?()
    }

    /// Starts an attempt with `start` and waits for it, abandoning it when the task is cancelled.
    static func waiting(_ start: (@escaping @Sendable (Attempt) -> Void) -> AttemptHandle) async -> Attempt {
        let started = Mutex<(handle: AttemptHandle?, cancelled: Bool)>((nil, false))
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let handle = start { continuation.resume(returning: $0) }
                if started.withLock({ $0.handle = handle; return $0.cancelled }) { handle.cancel() }
            }
        } onCancel: {
            started.withLock { $0.cancelled = true; return $0.handle }?.cancel()
        }
    }
}
