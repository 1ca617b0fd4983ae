import Synchronization

/// Keeps one endpoint's requests within its `rate_limit` for a run: a token bucket holding one
/// token, so requests start at least an interval apart, first attempts and retries alike.
///
/// A request first reserves a slot (in the order they ask, each an interval after the one
/// before) and waits for it holding no concurrency slot; then, holding one, it takes the token,
/// which checks the time since the last request actually started. A 429 or 503 answer doubles
/// the interval (up to 16 times the limit's); each delivered answer brings it back a twentieth
/// of the way towards the limit's rate.
final class RateLimiter: Sendable {
    private struct State {
        /// The interval now: the limit's, or wider after 429 and 503 answers.
        var interval: Duration
        /// The earliest start of the next slot handed out (uptime).
        var nextSlot: Duration
        /// When the last request started (uptime); nil before the first.
        var lastStart: Duration?
    }

    /// The configured limit.
    let limit: RateLimit
    /// The interval the limit allows.
    let base: Duration
    private let clock: any RunClock
    private let state: Mutex<State>

    /// How much wider than the limit's the interval grows after 429 and 503 answers.
    static let maxSlowdown = 16

    init(limit: RateLimit, clock: any RunClock) {
        self.limit = limit
        self.clock = clock
        base = limit.interval
        state = Mutex(State(interval: base, nextSlot: .zero, lastStart: nil))
    }

    /// The interval now, for tests and logs.
    var interval: Duration { state.withLock { $0.interval } }

    /// Reserves the next slot; returns how long to wait for it (zero: it has come).
    func reserve() -> Duration {
        let now = clock.uptime
        return state.withLock { state in
            let slot = max(state.nextSlot, now)
            state.nextSlot = slot + state.interval
            return slot - now
        }
    }

    /// Takes the token to start a request now; when the last request started less than an
    /// interval ago (a slot reserved before a slowdown, or a late start), returns how long is left instead.
    func take() -> Duration? {
        let now = clock.uptime
        return state.withLock { state in
            if let last = state.lastStart, now < last + state.interval {
                return last + state.interval - now
            }
            state.lastStart = now
            state.nextSlot = max(state.nextSlot, now + state.interval)
            return nil
        }
    }

    /// A 429 or 503 answer: half the rate, down to a sixteenth of the limit.
    func slowDown() {
        state.withLock { state in
            state.interval = min(state.interval * 2, base * Self.maxSlowdown)
            if let last = state.lastStart { state.nextSlot = max(state.nextSlot, last + state.interval) }
        }
    }

    /// A delivered answer: the rate grows back by a twentieth of the limit's, up to it.
    func speedUp() {
        state.withLock { state in
            guard state.interval > base else { return }
            // Rates add: 1/new = 1/old + 1/(20·base).
            let old = state.interval.seconds, limitRate = 1 / base.seconds
            let faster = Duration.nanoseconds(Int64((1e9 / (1 / old + limitRate / 20)).rounded(.up)))
            state.interval = max(base, faster)
        }
    }
}
