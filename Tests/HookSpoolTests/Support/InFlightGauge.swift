import HookSpoolReceiver
import Synchronization

/// A receiver's handler that holds each request a while, counting the requests in flight and the most at once.
final class InFlightGauge: Sendable {
    private let state = Mutex((now: 0, peak: 0, answered: 0, peakBeforeAnswer: 0))
    private let hold: Duration

    init(holding hold: Duration) {
        self.hold = hold
    }

    /// Answers 200 after the hold.
    func handle(_ request: ReceivedRequest) async -> ReceiverReply {
        state.withLock { state in
            state.now += 1
            state.peak = max(state.peak, state.now)
            if state.answered == 0 { state.peakBeforeAnswer = state.peak }
        }
        try? await Task.sleep(for: hold)
        state.withLock { $0.now -= 1; $0.answered += 1 }
        return .ok
    }

    /// The most requests in flight at once since the start or the last `resetPeak()`.
    var peak: Int { state.withLock { $0.peak } }

    /// The most requests in flight at once before the first answer since the start or the last `resetPeak()`.
    var peakBeforeFirstAnswer: Int { state.withLock { $0.peakBeforeAnswer } }

    func resetPeak() {
        state.withLock { $0.peak = 0; $0.answered = 0; $0.peakBeforeAnswer = 0 }
    }
}
