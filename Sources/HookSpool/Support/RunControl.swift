import Synchronization

/// Lets whoever started a run ask it to stop: no new attempts, in-flight ones may finish,
/// unfinished work is left for a later run.
public final class RunControl: Sendable {
    private let stop = Latch()

    public init() {}

    /// Whether a stop was asked for.
    public var isStopping: Bool { stop.hasFired }

    /// Asks the run to stop; waiting retries wake at once.
    public func requestStop() {
        stop.fire()
    }

    /// Sleeps on `clock` for `duration`, or less if a stop is asked for, `alarm` fires, or the task is cancelled.
    func sleep(for duration: Duration, on clock: any RunClock, unless alarm: Latch? = nil) async {
        guard !isStopping, alarm?.hasFired != true, duration > .zero else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await clock.sleep(for: duration) }
            group.addTask { await self.stop.wait() }
            if let alarm { group.addTask { await alarm.wait() } }
            await group.next()
            group.cancelAll()
        }
    }
}
