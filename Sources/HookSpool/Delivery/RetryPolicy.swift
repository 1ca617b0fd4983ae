import Foundation
import Synchronization

/// When to try a delivery again: exponential backoff with full jitter, or exactly what `Retry-After` asks.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts per delivery, the first included.
    public var maxAttempts: Int
    /// Backoff bounds.
    public var backoff: Backoff

    public init(maxAttempts: Int, backoff: Backoff) {
        self.maxAttempts = maxAttempts
        self.backoff = backoff
    }

    /// The longest wait before retry number `attempt` (1 after the first attempt): `initial * 2^(attempt-1)`, capped at `max`.
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let exponent = min(max(attempt - 1, 0), 40)
        let seconds = backoff.initial.seconds * Double(UInt64(1) << UInt64(exponent))
        return seconds >= backoff.max.seconds ? backoff.max : .milliseconds(Int64((seconds * 1000).rounded()))
    }

    /// The wait after failed attempt number `attempt`: the server's `Retry-After` if it gave one, never
    /// shortened (a wait longer than `max` is more than a run waits: the dispatcher defers the delivery),
    /// otherwise a uniformly random time between zero and the ceiling ("full jitter").
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, using random: inout some RandomNumberGenerator) -> Duration {
        if let retryAfter {
            return max(retryAfter, .zero)
        }
        let ceiling = ceiling(afterAttempt: attempt).milliseconds
        guard ceiling > 0 else { return .zero }
        return .milliseconds(Int64.random(in: 0...ceiling, using: &random))
    }

    /// Longest `Retry-After` taken as asked (a year); a longer one, or one too large to count, is read as this.
    public static let longestRetryAfter = Duration.seconds(365 * 86_400)

    /// Parses a `Retry-After` value: delay-seconds or an HTTP date; nil when it is neither.
    /// Waits beyond `longestRetryAfter` are read as that.
    public static func parseRetryAfter(_ value: String, now: Date) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let longest = longestRetryAfter.components.seconds
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            // Any number of digits: more than 12 (after leading zeros) is more than a year anyway.
            let significant = trimmed.drop { $0 == "0" }
            guard significant.utf8.count <= 12 else { return longestRetryAfter }
            let seconds = significant.isEmpty ? 0 : Int64(significant) ?? longest
            return .seconds(min(seconds, longest))
        }
        let date = httpDateFormatters.withLock { formatters in
            formatters.lazy.compactMap { $0.date(from: trimmed) }.first
        }
        guard let date else { return nil }
        let seconds = date.timeIntervalSince(now)
        guard seconds.isFinite, seconds > 0 else { return .zero }
        if seconds >= Double(longest) { return longestRetryAfter }
        return .milliseconds(Int64((seconds * 1000).rounded(.up)))
    }

    /// IMF-fixdate, then the obsolete RFC 850 and asctime forms, as RFC 9110 asks recipients to accept.
    /// DateFormatter is not Sendable; the lock makes the shared instances safe to use from any task.
    private static let httpDateFormatters = Mutex<[DateFormatter]>([
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'", "EEEE, dd-MMM-yy HH:mm:ss 'GMT'", "EEE MMM d HH:mm:ss yyyy",
    ].map { format in
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = format
        return formatter
    })
}
