import Synchronization

/// The time before which an endpoint asked, with `Retry-After`, not to be sent to: held for the
/// whole run (every delivery to it waits or is deferred) and carried to later runs in its health.
final class RetryAfterHold: Sendable {
    private struct State {
        /// Unix seconds; zero when no wait was asked for.
        var until: Double
        /// The `until` last written to the endpoints' health.
        var recorded: Double
    }

    private let state: Mutex<State>
    private let clock: any RunClock

    init(untilUnix: Double = 0, clock: any RunClock = SystemClock()) {
        self.clock = clock
        state = Mutex(State(until: untilUnix, recorded: untilUnix))
    }

    /// Moves the hold later, never earlier.
    func extend(untilUnix time: Double) {
        state.withLock { $0.until = max($0.until, time) }
    }

    /// Holds for `wait` from now, unless a later hold is already set.
    func extend(by wait: Duration) {
        extend(untilUnix: clock.unixTime + wait.seconds)
    }

    /// The end of the hold (unix seconds) while it lasts; nil once it is over.
    var activeUntil: Double? {
        let until = untilUnix
        return until > clock.unixTime ? until : nil
    }

    /// The end of the hold (unix seconds), zero when there is none.
    var untilUnix: Double { state.withLock { $0.until } }

    /// Seconds still to wait now; zero when the hold is over (or there never was one).
    func remaining() -> Double {
        let until = untilUnix
        guard until > 0 else { return 0 }
        return max(0, until - clock.unixTime)
    }

    /// The end of the hold, when it is more than a second past what was last recorded (and marks it recorded); else nil.
    func toRecord() -> Double? {
        state.withLock { state in
            guard state.until > state.recorded + 1 else { return nil }
            state.recorded = state.until
            return state.until
        }
    }
}
