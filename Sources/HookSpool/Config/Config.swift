// Config stage. Takes config.yaml (and the environment and files it names);
// gives a validated Config, every endpoint's defaults resolved, or every issue with its line.

import Foundation

/// A validated hookspool configuration, loaded from YAML.
public struct Config: Sendable {
    /// The file it was loaded from, as given.
    public var file: String
    /// The spool folder (absolute).
    public var spoolDirectory: String
    /// The report folder (absolute).
    public var reportDirectory: String
    /// How many runs' reports to keep in the report folder (`report.keep`); older ones are deleted.
    public var reportKeep: Int
    /// How many runs' reports `report.keep` keeps when the config does not say.
    public static let defaultReportKeep = 100
    /// Defaults that apply to every endpoint.
    public var delivery: DeliverySettings
    /// Input limits.
    public var limits: Limits
    /// The endpoints, in config order.
    public var endpoints: [Endpoint]
    /// Where each run writes Prometheus metrics for node_exporter's textfile collector (`metrics.textfile`, absolute); nil writes none.
    public var metricsTextfile: String?

    public init(
        file: String,
        spoolDirectory: String,
        reportDirectory: String,
        reportKeep: Int = Config.defaultReportKeep,
        delivery: DeliverySettings = DeliverySettings(),
        limits: Limits = Limits(),
        endpoints: [Endpoint],
        metricsTextfile: String? = nil
    ) {
        self.file = file
        self.spoolDirectory = spoolDirectory
        self.reportDirectory = reportDirectory
        self.reportKeep = reportKeep
        self.delivery = delivery
        self.limits = limits
        self.endpoints = endpoints
        self.metricsTextfile = metricsTextfile
    }
}

/// Delivery defaults shared by all endpoints (`delivery:` in the config).
public struct DeliverySettings: Sendable, Equatable {
    /// Requests in flight in total.
    public var concurrency: Int = 64
    /// One attempt, connect to last byte.
    public var timeout: Duration = .seconds(10)
    /// Attempts per delivery, the first included.
    public var maxAttempts: Int = 5
    /// Wait between attempts.
    public var backoff: Backoff = Backoff()
    /// How long after a delivery's first attempt later runs keep retrying it; zero keeps everything in one run.
    public var retryFor: Duration = .seconds(24 * 3600)
    /// Wait before a deferred file's next run: the n-th deferral waits the n-th entry (the last repeats), ±10%.
    public var retrySchedule: [Duration] = DeliverySettings.defaultRetrySchedule
    /// An endpoint failing every delivery this long is disabled.
    public var disableAfter: Duration = .seconds(5 * 86_400)
    /// The most requests per second, minute or hour sent to each endpoint that sets none; nil: no limit.
    public var rateLimit: RateLimit?
    /// The proxy endpoints connect through unless they set their own or match `noProxy`; nil: direct.
    public var proxy: EgressProxy?
    /// Endpoints that connect directly rather than through `proxy`.
    public var noProxy: [NoProxyRule] = []

    /// Close to Standard Webhooks' recommendation: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then every 10 h.
    public static let defaultRetrySchedule: [Duration] = [
        .seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000),
    ]

    public init(
        concurrency: Int = 64,
        timeout: Duration = .seconds(10),
        maxAttempts: Int = 5,
        backoff: Backoff = Backoff(),
        retryFor: Duration = .seconds(24 * 3600),
        retrySchedule: [Duration] = DeliverySettings.defaultRetrySchedule,
        disableAfter: Duration = .seconds(5 * 86_400),
        rateLimit: RateLimit? = nil,
        proxy: EgressProxy? = nil,
        noProxy: [NoProxyRule] = []
    ) {
        self.concurrency = concurrency
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.retryFor = retryFor
        self.retrySchedule = retrySchedule
        self.disableAfter = disableAfter
        self.rateLimit = rateLimit
        self.proxy = proxy
        self.noProxy = noProxy
    }
}

/// Exponential backoff bounds: the n-th retry waits a random time up to `initial * 2^(n-1)`, capped at `max`.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration = .seconds(1)
    public var max: Duration = .seconds(60)

    public init(initial: Duration = .seconds(1), max: Duration = .seconds(60)) {
        self.initial = initial
        self.max = max
    }
}

/// Limits on input (`limits:` in the config).
public struct Limits: Sendable, Equatable {
    /// The largest event line accepted, in bytes.
    public var maxEventBytes: Int = 1 << 20
    /// The largest spool file taken, in bytes; a larger one (a sparse file can claim any size) is refused.
    public var maxFileBytes: Int = Limits.defaultMaxFileBytes

    public static let defaultMaxFileBytes = 4 << 30

    public init(maxEventBytes: Int = 1 << 20, maxFileBytes: Int = Limits.defaultMaxFileBytes) {
        self.maxEventBytes = maxEventBytes
        self.maxFileBytes = maxFileBytes
    }
}
