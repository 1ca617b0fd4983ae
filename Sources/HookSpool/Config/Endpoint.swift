import WebhookSignature

/// One receiver of webhooks, with its subscriptions, signing and limits.
public struct Endpoint: Sendable {
    /// Unique name: letters, digits, '-' and '_'.
    public var name: String
    /// Where deliveries are POSTed.
    public var url: EndpointURL
    /// Event type globs this endpoint subscribes to.
    public var events: [EventPattern]
    /// Signs each attempt with the secrets valid at its time; holds the secrets, which are never printed.
    public var signing: SigningSchedule
    /// Its own body, rendered from each event; nil sends the event itself, as JSON.
    public var template: BodyTemplate?
    /// Extra headers sent with every delivery.
    public var headers: [(name: String, value: String)]
    /// Cap on this endpoint's requests in flight (without one in the config, `delivery.concurrency`).
    public var concurrency: Int
    /// The most requests started per second, minute or hour, retries included; nil: no limit.
    public var rateLimit: RateLimit?
    /// Whether its deliveries go one at a time, in spool order (`ordering: fifo`).
    public var ordering: Ordering
    /// One attempt, connect to last byte.
    public var timeout: Duration
    /// Attempts per delivery, the first included.
    public var maxAttempts: Int
    /// Wait between attempts.
    public var backoff: Backoff
    /// A disabled endpoint receives nothing.
    public var enabled: Bool
    /// Whether non-global addresses (loopback, private, …) may be reached.
    public var allowPrivate: Bool
    /// The proxy its connections go through (its own `proxy`, or `delivery.proxy` unless `no_proxy`
    /// matches); nil: direct.
    public var proxy: EgressProxy?
    /// A private CA and a client certificate for mutual TLS; nil uses the system's roots and no client certificate.
    public var tls: EndpointTLS?

    public init(
        name: String,
        url: EndpointURL,
        events: [EventPattern],
        signing: SigningSchedule,
        template: BodyTemplate? = nil,
        headers: [(name: String, value: String)] = [],
        concurrency: Int = 64,
        rateLimit: RateLimit? = nil,
        ordering: Ordering = .none,
        timeout: Duration = .seconds(10),
        maxAttempts: Int = 5,
        backoff: Backoff = Backoff(),
        enabled: Bool = true,
        allowPrivate: Bool = false,
        tls: EndpointTLS? = nil,
        proxy: EgressProxy? = nil
    ) {
        self.name = name
        self.url = url
        self.events = events
        self.signing = signing
        self.template = template
        self.headers = headers
        self.concurrency = concurrency
        self.rateLimit = rateLimit
        self.ordering = ordering
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.enabled = enabled
        self.allowPrivate = allowPrivate
        self.tls = tls
        self.proxy = proxy
    }

    /// The order an endpoint's deliveries are made in.
    public enum Ordering: String, Sendable, CaseIterable {
        /// Concurrently, as they come: no promise of order.
        case none
        /// One at a time, in spool order: files as claimed, lines in file order; a delivery left
        /// for a later run holds every later one until it is delivered or fails for good.
        case fifo
    }

    /// The `Content-Type` of its requests.
    public var contentType: String { template?.contentType ?? "application/json" }

    /// What is sent for `event`: the event itself, or its rendering through the endpoint's template.
    func request(for event: Event) -> Event {
        template.map { $0.apply(to: event) } ?? event
    }

    /// The signature scheme.
    public var scheme: SignatureScheme { signing.scheme }

    /// How many secrets the list holds (more than one: a rotation), valid now or not.
    public var secretCount: Int { signing.count }

    /// Whether this endpoint subscribes to events of `type`.
    public func subscribes(to type: String) -> Bool {
        events.contains { $0.matches(type) }
    }
}
