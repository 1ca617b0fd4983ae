import Synchronization

/// Whether an endpoint is disabled, and why; set at most once per run.
final class DisableSwitch: Sendable {
    private let state: Mutex<String?>

    init(reason: String? = nil) {
        state = Mutex(reason)
    }

    var reason: String? { state.withLock { $0 } }

    /// Disables the endpoint; returns false when it already was.
    func disable(because reason: String) -> Bool {
        state.withLock { current in
            guard current == nil else { return false }
            current = reason
            return true
        }
    }
}
