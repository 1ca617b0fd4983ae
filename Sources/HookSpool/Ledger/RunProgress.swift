/// A run's counters at one moment, for a live progress display.
///
/// Read it through a `RunMonitor` while the run goes on; the numbers only grow.
public struct RunProgress: Sendable, Equatable {
    /// Files this run means to work on; 0 until the spool has been listed.
    public var filesPlanned = 0
    /// Files claimed (or taken up) so far.
    public var filesStarted = 0
    /// Files finished (moved, or left for a later run) so far.
    public var filesFinished = 0
    /// Events read so far.
    public var events = 0
    /// Invalid lines so far.
    public var invalidLines = 0
    /// Deliveries due so far; final once `readingFinished`.
    public var deliveries = 0
    public var delivered = 0
    /// Deliveries failed for good.
    public var failed = 0
    /// Deliveries left for a later run.
    public var deferred = 0
    /// HTTP attempts made.
    public var attempts = 0
    /// Every file has been read: `deliveries` will not grow any more.
    public var readingFinished = false

    public init() {}

    /// Deliveries that reached an outcome in this run.
    public var finishedDeliveries: Int { delivered + failed + deferred }
}
