import Foundation

/// A validated hookspool configuration, loaded from YAML.
public struct Config: Sendable {
    /// The file it was loaded from, as given.
    public var file: String
    /// The spool folder (absolute).
    public var spoolDirectory: String
    /// The report folder (absolute).
    public var reportDirectory: String
    /// Defaults that apply to every endpoint.
    public var delivery: DeliverySettings
    /// Input limits.
    public var limits: Limits
    /// The endpoints, in config order.
    public var endpoints: [Endpoint]

    public init(
        file: String,
        spoolDirectory: String,
        reportDirectory: String,
        delivery: DeliverySettings = DeliverySettings(),
        limits: Limits = Limits(),
        endpoints: [Endpoint]
    ) {
        self.file = file
        self.spoolDirectory = spoolDirectory
        self.reportDirectory = reportDirectory
        self.delivery = delivery
        self.limits = limits
        self.endpoints = endpoints
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

    public init(concurrency: Int = 64, timeout: Duration = .seconds(10), maxAttempts: Int = 5, backoff: Backoff = Backoff()) {
        self.concurrency = concurrency
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.backoff = backoff
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

    public init(maxEventBytes: Int = 1 << 20) {
        self.maxEventBytes = maxEventBytes
    }
}
