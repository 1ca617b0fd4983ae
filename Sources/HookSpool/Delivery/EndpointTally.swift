import Synchronization

/// One endpoint's figures in a run, kept by its lane: attempts, status codes, latencies, outcomes.
final class EndpointTally: Sendable {
    /// The figures at one moment.
    struct Figures: Sendable {
        var attempts = 0
        /// Attempts after a delivery's first.
        var retries = 0
        /// Per status code (or transport failure word), how many attempts ended so.
        var statusCodes: [String: Int] = [:]
        var latency = LatencyHistogram()
        var delivered = 0
        var failed = 0
        /// Left for a later run (deferred, or pending when the run stopped).
        var deferred = 0
        /// Why the endpoint is disabled, if it is.
        var disabled: String?
        /// Attempts that waited for the rate limit, how long in all, and the longest wait.
        var rateLimitWaits = 0
        var rateLimitWaitTotal = Duration.zero
        var rateLimitWaitMax = Duration.zero
        /// 429 and 503 answers that slowed a rate-limited endpoint down.
        var rateLimitSlowdowns = 0
        /// Deliveries to a fifo endpoint held, unattempted, behind an earlier one (counted in `deferred` too).
        var held = 0
    }

    private let state = Mutex(Figures())

    init() {}

    func attempt(_ attempt: Attempt) {
        state.withLock { figures in
            figures.attempts += 1
            if attempt.number > 1 { figures.retries += 1 }
            figures.statusCodes[attempt.statusKey, default: 0] += 1
            figures.latency.record(attempt.latency)
        }
    }

    func outcome(_ outcome: DeliveryOutcome) {
        state.withLock { figures in
            switch outcome {
            case .delivered: figures.delivered += 1
            case .failed: figures.failed += 1
            case .deferred, .interrupted: figures.deferred += 1
            case .held:
                figures.deferred += 1
                figures.held += 1
            }
        }
    }

    /// An attempt that waited `wait` for the endpoint's rate limit before it started.
    func rateLimitWait(_ wait: Duration) {
        state.withLock { figures in
            figures.rateLimitWaits += 1
            figures.rateLimitWaitTotal += wait
            figures.rateLimitWaitMax = max(figures.rateLimitWaitMax, wait)
        }
    }

    /// A 429 or 503 answer that halved the endpoint's rate.
    func rateLimitSlowdown() {
        state.withLock { $0.rateLimitSlowdowns += 1 }
    }

    /// Marks the endpoint disabled.
    func disabled(because reason: String) {
        state.withLock { $0.disabled = reason }
    }

    /// The figures so far.
    var figures: Figures { state.withLock { $0 } }
}
