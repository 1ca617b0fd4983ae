import Foundation
import NIOCore
import NIOPosix

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
    /// Calls `body` once `duration` has passed, unless the timer is cancelled first.
    func schedule(after duration: Duration, _ body: @escaping @Sendable () -> Void) -> RunTimer
}

extension RunClock {
    /// Whole seconds since 1970, rounded down.
    var unixSeconds: Int64 { Int64(unixTime.rounded(.down)) }

    /// A task that sleeps on this clock, then calls `body`.
    public func schedule(after duration: Duration, _ body: @escaping @Sendable () -> Void) -> RunTimer {
        let task = Task {
            await sleep(for: duration)
            if !Task.isCancelled { body() }
        }
        return RunTimer { task.cancel() }
    }
}

/// A pending call from `RunClock.schedule(after:_:)`.
public struct RunTimer: Sendable {
    private let cancelling: @Sendable () -> Void

    init(cancel: @escaping @Sendable () -> Void) {
        cancelling = cancel
    }

    /// Drops the call if it has not happened yet.
    public func cancel() {
        cancelling()
    }
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

    /// An event-loop timer: far cheaper than a task that sleeps, for waits that are mostly cancelled.
    public func schedule(after duration: Duration, _ body: @escaping @Sendable () -> Void) -> RunTimer {
        let nanoseconds = duration.components.seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let delay = nanoseconds.overflow ? Int64.max : nanoseconds.partialValue.addingReportingOverflow(duration.components.attoseconds / 1_000_000_000).partialValue
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .nanoseconds(max(0, delay))) { body() }
        return RunTimer { scheduled.cancel() }
    }
}
