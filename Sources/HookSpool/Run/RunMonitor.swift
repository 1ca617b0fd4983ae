import Synchronization

/// Lets whoever started a run read its live counters while it runs (a progress line, a status page).
///
/// ```swift
/// let monitor = RunMonitor()
/// let outcome = await BatchRun(config: config, monitor: monitor, logger: logger).run()
/// // meanwhile, from another task: monitor.progress?.delivered
/// ```
public final class RunMonitor: Sendable {
    private let ledger = Mutex<Ledger?>(nil)

    public init() {}

    /// The counters now; nil before the run has started.
    public var progress: RunProgress? {
        ledger.withLock { $0 }?.progress
    }

    /// Called by the run once its ledger exists.
    func attach(_ ledger: Ledger) {
        self.ledger.withLock { $0 = ledger }
    }
}
