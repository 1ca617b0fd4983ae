import Foundation

/// The time a run reads: a monotonic clock for waits and patience, and the wall clock for what it records.
///
/// The engine never reads time any other way, so tests can run retries, Retry-After holds, slow
/// starts and deferrals on a clock they move themselves.
public protocol RunClock: Sendable {
    /// Monotonic time since an arbitrary origin; only differences mean anything.
    var uptime: Duration { get }
    /// Wall-clock time, in seconds since 1970.
    var unixTime: Double { get }
    /// Returns once `duration` has passed, or at once when the task is cancelled.
    func sleep(for duration: Duration) async
}

extension RunClock {
    /// Whole seconds since 1970, rounded down.
    var unixSeconds: Int64 { Int64(unixTime.rounded(.down)) }
}

/// The machine's clocks: `ContinuousClock` and the system's wall clock.
public struct SystemClock: RunClock {
    private static let origin = ContinuousClock.now

    public init() {}

    public var uptime: Duration { Self.origin.duration(to: .now) }

    public var unixTime: Double { Date().timeIntervalSince1970 }

    public func sleep(for duration: Duration) async {
        guard duration > .zero else { return }
        try? await Task.sleep(for: duration)
    }
}
