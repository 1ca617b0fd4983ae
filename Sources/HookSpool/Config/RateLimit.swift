/// The most requests an endpoint may be sent per second, minute or hour (`rate_limit: 50/s`).
///
/// Enforced as a token bucket that holds one token (no burst): requests start at least
/// `per / count` apart, plus 1% so that arrival jitter never shows a receiver one too many in
/// any window of `per`. Retries count like first attempts.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Requests allowed in each window of `per`.
    public var count: Int
    /// The window: one second, one minute or one hour.
    public var per: Unit

    /// The window a limit is counted over.
    public enum Unit: String, Sendable, CaseIterable {
        case second = "s", minute = "min", hour = "h"

        var seconds: Int {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            }
        }
    }

    /// The fastest limit taken, in requests per second: above it, sleeps are too coarse to space
    /// requests evenly; `concurrency` is the tool for faster endpoints.
    public static let maxPerSecond = 1000

    /// How much wider than `per / count` requests are spaced.
    static let margin = 1.01

    public init(count: Int, per: Unit) {
        self.count = count
        self.per = per
    }

    /// Parses `50/s`, `600/min`, `1000/h`; throws a sentence saying what is wrong.
    public init(parsing text: String) throws(RateLimitError) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let unit = Unit(rawValue: String(parts[1])) else {
            throw RateLimitError("'\(text)' is not a rate; write e.g. 50/s, 600/min or 1000/h (or none)")
        }
        guard !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let count = Int(parts[0]), count >= 1 else {
            throw RateLimitError("'\(parts[0])' is not a whole number of requests of at least 1")
        }
        let (perSecondLimit, overflow) = Self.maxPerSecond.multipliedReportingOverflow(by: unit.seconds)
        guard !overflow, count <= perSecondLimit else {
            throw RateLimitError("\(text) is faster than \(Self.maxPerSecond)/s, the fastest rate_limit; use concurrency to bound a faster endpoint")
        }
        self.init(count: count, per: unit)
    }

    /// The least time between the starts of two requests.
    public var interval: Duration {
        .nanoseconds(Int64((Double(per.seconds) * 1e9 / Double(count) * Self.margin).rounded(.up)))
    }

    /// As the config writes it: `50/s`.
    public var description: String { "\(count)/\(per.rawValue)" }
}

/// Why a `rate_limit` value is not one.
public struct RateLimitError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
