import Synchronization

/// Stops sending to an endpoint for the rest of the run after a run of consecutive connection
/// errors or timeouts, so one sick endpoint cannot hold the others back.
final class CircuitBreaker: Sendable {
    /// Consecutive transport failures that open the circuit.
    let threshold: Int
    private struct State {
        var consecutive = 0
        var open = false
    }

    private let state = Mutex(State())

    init(threshold: Int = 5) {
        self.threshold = threshold
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Counts an attempt; returns true when this attempt opened the circuit.
    func record(_ attempt: Attempt) -> Bool {
        state.withLock { state in
            switch attempt.result {
            case .response:
                if !state.open { state.consecutive = 0 }
                return false
            case .failure(let failure):
                // Nothing was sent for these: they say nothing about the endpoint's health.
                guard failure != .addressNotAllowed, failure != .noValidSecret, !state.open else { return false }
                state.consecutive += 1
                if state.consecutive >= threshold {
                    state.open = true
                    return true
                }
                return false
            }
        }
    }
}
