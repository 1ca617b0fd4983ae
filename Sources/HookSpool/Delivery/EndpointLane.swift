/// One endpoint for the length of a run: its settings, where its host resolved, its connections,
/// and every limit and state that is its own. Delivery code is handed a lane, never an index.
final class EndpointLane: Sendable {
    /// The endpoint's settings, every default resolved at config load.
    let endpoint: Endpoint
    /// Where its host resolved at the start of the run.
    let resolution: HostResolver.Resolution
    /// Its connections.
    let transport: any Transport
    /// Its requests in flight: its concurrency, reached by slow start.
    let window: EndpointWindow
    /// Keeps its requests within its `rate_limit`; nil when it has none.
    let rateLimiter: RateLimiter?
    /// Its part of the run's read-ahead window (deliveries read and not yet finished).
    let share: AsyncSemaphore
    /// Its attempts and backoff.
    let retryPolicy: RetryPolicy
    /// Opens after consecutive connection failures: nothing more is sent in this run.
    let circuit = CircuitBreaker()
    /// Set when the endpoint is disabled (before or during the run): deliveries are deferred without an attempt.
    let disabled: DisableSwitch
    /// Fires when the circuit opens or the endpoint is disabled mid-run: retries waiting for
    /// their backoff wake up and are deferred at once instead of holding the run open.
    let sidelined = Latch()
    /// Until when the endpoint asked not to be sent to (`Retry-After`), across its deliveries and runs.
    let hold: RetryAfterHold
    /// Its figures for the report.
    let tally: EndpointTally
    /// Its turns and its place in the spool's order, when it has `ordering: fifo` (and the run sends).
    let fifo: FifoLane?

    /// `startLimit`: the most requests in flight before the endpoint's first answer, resumed window or not.
    init(
        endpoint: Endpoint, resolution: HostResolver.Resolution, transport: any Transport, share: AsyncSemaphore, tally: EndpointTally,
        clock: any RunClock, from earlier: Earlier = Earlier(), fifo: FifoLane? = nil, startLimit: Int = .max
    ) {
        self.endpoint = endpoint
        self.resolution = resolution
        self.transport = transport
        self.share = share
        self.tally = tally
        self.fifo = fifo
        window = EndpointWindow(limit: endpoint.concurrency, resume: earlier.window, startLimit: startLimit)
        rateLimiter = endpoint.rateLimit.map { RateLimiter(limit: $0, clock: clock) }
        retryPolicy = RetryPolicy(maxAttempts: endpoint.maxAttempts, backoff: endpoint.backoff)
        disabled = DisableSwitch(reason: earlier.disabledReason)
        hold = RetryAfterHold(untilUnix: earlier.retryAfterUntil, clock: clock)
    }

    /// What earlier runs left for this endpoint: disabled (and why), a `Retry-After` wait (unix
    /// seconds; zero for none), and the window the last run ended with while healthy.
    struct Earlier: Sendable {
        var disabledReason: String?
        var retryAfterUntil: Double = 0
        var window: Int?
    }

    var name: String { endpoint.name }

    /// Once the run has read every event: closes the idle connections that none of this endpoint's
    /// unfinished deliveries (waiting for a slot, a rate limit or a retry's backoff) could take.
    func closeSpareConnections() {
        transport.closeSpare(pending: share.taken)
    }

    /// The key of this endpoint's delivery of line `line`, as the journal records it.
    func key(line: Int) -> DeliveryKey {
        DeliveryKey(line: line, endpoint: endpoint.name)
    }
}
