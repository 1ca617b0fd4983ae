import Foundation

/// One endpoint's health across runs, kept in the spool (`endpoints.json`).
public struct EndpointHealth: Sendable, Codable, Equatable {
    /// When a delivery last succeeded (RFC 3339).
    public var lastSuccess: String?
    /// When the current failing streak began (RFC 3339); nil while healthy.
    public var failingSince: String?
    /// Deliveries that ended without success since the last success.
    public var consecutiveFailures: Int = 0
    /// Set while the endpoint is disabled.
    public var disabled: Disabled?
    /// Until when (RFC 3339) the endpoint asked, with `Retry-After`, not to be sent to; nil when it did not.
    public var retryAfterUntil: String?
    /// Requests in flight the endpoint took at the end of the last run that ended it healthy; nil otherwise.
    public var window: Int?

    /// Why and when an endpoint was disabled.
    public struct Disabled: Sendable, Codable, Equatable {
        public var at: String
        public var reason: String
    }

    enum CodingKeys: String, CodingKey {
        case lastSuccess = "last_success"
        case failingSince = "failing_since"
        case consecutiveFailures = "consecutive_failures"
        case disabled
        case retryAfterUntil = "retry_after_until"
        case window
    }

    public init(lastSuccess: String? = nil, failingSince: String? = nil, consecutiveFailures: Int = 0, disabled: Disabled? = nil) {
        self.lastSuccess = lastSuccess
        self.failingSince = failingSince
        self.consecutiveFailures = consecutiveFailures
        self.disabled = disabled
    }

    /// Keeps the later of the stored `Retry-After` wait and `untilUnix`.
    mutating func holdRetryAfter(untilUnix: Double) {
        let stored = retryAfterUntil.flatMap(Self.parse)?.timeIntervalSince1970 ?? 0
        guard untilUnix > stored, untilUnix < 253_402_300_799 else { return }
        retryAfterUntil = RFC3339.format(secondsSince1970: Int(untilUnix.rounded(.up)))
    }

    /// `healthy`, `failing` or `disabled`.
    public var state: String {
        if disabled != nil { return "disabled" }
        return failingSince == nil ? "healthy" : "failing"
    }

    /// What one run saw of an endpoint.
    struct RunTally: Sendable {
        var delivered: Int
        /// Deliveries that were attempted in this run and did not succeed.
        var unsuccessful: Int
        /// Whether it answered 410 Gone.
        var gone: Bool
    }

    /// Folds one run into the health: a success heals; failures extend the streak; 410 or a streak of
    /// `disableAfter` disables.
    mutating func record(_ tally: RunTally, runStarted: Date, now: Date, disableAfter: Duration) {
        let nowText = Self.format(now)
        if tally.delivered > 0 {
            lastSuccess = nowText
            failingSince = nil
            consecutiveFailures = 0
        } else if tally.unsuccessful > 0 {
            failingSince = failingSince ?? Self.format(runStarted)
            consecutiveFailures += tally.unsuccessful
        }
        guard disabled == nil else { return }
        if tally.gone {
            disabled = Disabled(at: nowText, reason: "answered 410 Gone")
        } else if let since = failingSince.flatMap(Self.parse), now.timeIntervalSince(since) >= disableAfter.seconds {
            disabled = Disabled(at: nowText, reason: "every delivery failed since \(failingSince ?? "?") (disable_after \(ConfigValues.format(disableAfter)))")
        }
    }

    static func format(_ date: Date) -> String {
        RFC3339.format(secondsSince1970: Int(date.timeIntervalSince1970))
    }

    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)
    }
}
