/// The JSON report of one run (`run-<id>.json`, schema version 1).
public struct RunReport: Sendable, Codable, Equatable {
    public var schemaVersion: Int = 1
    public var runID: String
    public var startedAt: String
    public var finishedAt: String
    public var durationMs: Int64
    public var dryRun: Bool
    public var totals: Totals
    public var endpoints: [EndpointSummary]
    public var files: [FileSummary]
    public var failures: [FailureRow]
    /// Failures beyond the report's cap: counted, not listed (the failures sidecars hold every one).
    public var failuresOmitted: Int
    /// Problems that stopped part of the run (an unreadable spool file, a failed move), one sentence each.
    public var errors: [String]

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runID = "run_id"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case durationMs = "duration_ms"
        case dryRun = "dry_run"
        case totals, endpoints, files, failures
        case failuresOmitted = "failures_omitted"
        case errors
    }

    /// Counts over the whole run.
    public struct Totals: Sendable, Codable, Equatable {
        public var files = 0
        public var filesDone = 0
        public var filesFailed = 0
        public var filesDeferred = 0
        public var events = 0
        public var invalidLines = 0
        public var unrouted = 0
        public var deliveries = 0
        public var delivered = 0
        public var failed = 0
        public var deferred = 0
        public var attempts = 0
        public var retries = 0

        enum CodingKeys: String, CodingKey {
            case files
            case filesDone = "files_done"
            case filesFailed = "files_failed"
            case filesDeferred = "files_deferred"
            case events
            case invalidLines = "invalid_lines"
            case unrouted, deliveries, delivered, failed, deferred, attempts, retries
        }
    }

    /// One endpoint's figures for the run.
    public struct EndpointSummary: Sendable, Codable, Equatable {
        public var name: String
        /// Redacted: no credentials, no query values.
        public var url: String
        public var delivered = 0
        public var failed = 0
        public var deferred = 0
        public var attempts = 0
        /// Attempts by HTTP status, or by failure name (`timeout`, `connect_error`, …).
        public var statusCodes: [String: Int] = [:]
        public var latencyMs: Latency
        /// Why the endpoint is disabled, when it is (its deliveries wait, unattempted, until `hookspool endpoints enable`).
        public var disabled: String?
        /// Its `rate_limit` and how long attempts waited for it; null when it has none.
        public var rateLimit: RateLimitSummary?
        /// Its `ordering: fifo` and the deliveries held behind an earlier one; null when it has none.
        public var ordering: OrderingSummary?

        enum CodingKeys: String, CodingKey {
            case name, url, delivered, failed, deferred, attempts
            case statusCodes = "status_codes"
            case latencyMs = "latency_ms"
            case disabled
            case rateLimit = "rate_limit"
            case ordering
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(url, forKey: .url)
            try container.encode(delivered, forKey: .delivered)
            try container.encode(failed, forKey: .failed)
            try container.encode(deferred, forKey: .deferred)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(statusCodes, forKey: .statusCodes)
            try container.encode(latencyMs, forKey: .latencyMs)
            try container.encodeIfPresent(disabled, forKey: .disabled)
            try container.encode(rateLimit, forKey: .rateLimit)
            try container.encode(ordering, forKey: .ordering)
        }
    }

    /// A fifo endpoint in a run: the deliveries it held, unattempted, for a later run.
    public struct OrderingSummary: Sendable, Codable, Equatable {
        /// `fifo`.
        public var mode: String
        /// Deliveries held behind an earlier one left for later, or because another run delivers
        /// to the endpoint (counted in `deferred` too).
        public var held = 0

        public init(mode: String, held: Int = 0) {
            self.mode = mode
            self.held = held
        }
    }

    /// An endpoint's rate limit in a run: the limit, and the waits it imposed.
    public struct RateLimitSummary: Sendable, Codable, Equatable {
        /// As the config writes it: `50/s`.
        public var limit: String
        /// Attempts that waited for the limit before they started.
        public var waited = 0
        /// Their waits added up, and the longest, in milliseconds.
        public var waitTotalMs: Int64 = 0
        public var waitMaxMs: Int64 = 0
        /// 429 and 503 answers, each of which halved the rate for a while.
        public var slowdowns = 0

        public init(limit: String) {
            self.limit = limit
        }

        enum CodingKeys: String, CodingKey {
            case limit, waited
            case waitTotalMs = "wait_total_ms"
            case waitMaxMs = "wait_max_ms"
            case slowdowns
        }
    }

    /// Attempt latency percentiles in milliseconds; null when there was no attempt.
    public struct Latency: Sendable, Codable, Equatable {
        public var p50: Double?
        public var p90: Double?
        public var p99: Double?
        public var max: Double?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(p50, forKey: .p50)
            try container.encode(p90, forKey: .p90)
            try container.encode(p99, forKey: .p99)
            try container.encode(max, forKey: .max)
        }

        enum CodingKeys: String, CodingKey { case p50, p90, p99, max }
    }

    /// One spool file's outcome.
    public struct FileSummary: Sendable, Codable, Equatable {
        public var name: String
        public var outcome: FileOutcome
        public var events: Int
        public var invalidLines: Int
        public var delivered: Int
        public var failed: Int
        public var deferred: Int
        /// Path relative to the spool folder, e.g. `done/orders-1.ndjson`; null in a dry run or when the move failed.
        public var movedTo: String?

        enum CodingKeys: String, CodingKey {
            case name, outcome, events
            case invalidLines = "invalid_lines"
            case delivered, failed, deferred
            case movedTo = "moved_to"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(outcome, forKey: .outcome)
            try container.encode(events, forKey: .events)
            try container.encode(invalidLines, forKey: .invalidLines)
            try container.encode(delivered, forKey: .delivered)
            try container.encode(failed, forKey: .failed)
            try container.encode(deferred, forKey: .deferred)
            try container.encode(movedTo, forKey: .movedTo)
        }
    }

    /// One failed delivery or invalid line; also the line format of `NAME.failures.ndjson`.
    public struct FailureRow: Sendable, Codable, Equatable {
        public var file: String
        public var line: Int
        /// Null for an invalid line.
        public var eventID: String?
        public var eventType: String?
        /// Null for an invalid line.
        public var endpoint: String?
        public var attempts: Int
        /// Null when no HTTP answer came.
        public var lastStatus: Int?
        /// `timeout`, `connect_error`, … or, for an invalid line, the reason.
        public var lastError: String?
        public var responseExcerpt: String?
        /// When the delivery's first attempt started (RFC 3339, UTC); null for an invalid line,
        /// and missing from rows written before 0.5.
        public var firstAttempt: String?

        public init(
            file: String, line: Int, eventID: String?, eventType: String?, endpoint: String?, attempts: Int,
            lastStatus: Int?, lastError: String?, responseExcerpt: String?, firstAttempt: String? = nil
        ) {
            self.file = file
            self.line = line
            self.eventID = eventID
            self.eventType = eventType
            self.endpoint = endpoint
            self.attempts = attempts
            self.lastStatus = lastStatus
            self.lastError = lastError
            self.responseExcerpt = responseExcerpt
            self.firstAttempt = firstAttempt
        }

        enum CodingKeys: String, CodingKey {
            case file, line
            case eventID = "event_id"
            case eventType = "event_type"
            case endpoint, attempts
            case lastStatus = "last_status"
            case lastError = "last_error"
            case responseExcerpt = "response_excerpt"
            case firstAttempt = "first_attempt"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(file, forKey: .file)
            try container.encode(line, forKey: .line)
            try container.encode(eventID, forKey: .eventID)
            try container.encode(eventType, forKey: .eventType)
            try container.encode(endpoint, forKey: .endpoint)
            try container.encode(attempts, forKey: .attempts)
            try container.encode(lastStatus, forKey: .lastStatus)
            try container.encode(lastError, forKey: .lastError)
            try container.encode(responseExcerpt, forKey: .responseExcerpt)
            try container.encode(firstAttempt, forKey: .firstAttempt)
        }
    }
}
