import Synchronization

/// The time before which an endpoint asked, with `Retry-After`, not to be sent to: held for the
/// whole run (every delivery to it waits or is deferred) and carried to later runs in its health.
final class RetryAfterHold: Sendable {
    /// Unix seconds; zero when no wait was asked for.
    private let until: Mutex<Double>

    init(untilUnix: Double = 0) {
        until = Mutex(untilUnix)
    }

    /// Moves the hold later, never earlier.
    func extend(untilUnix time: Double) {
        until.withLock { $0 = max($0, time) }
    }

    /// The end of the hold (unix seconds), zero when there is none.
    var untilUnix: Double { until.withLock { $0 } }

    /// Seconds still to wait at `now` (unix seconds); zero when the hold is over.
    func remaining(now: Double) -> Double {
        max(0, untilUnix - now)
    }
}
