// Run: the top. Takes a Config and the spool;
// gives one batch run through every stage, its files finished, its report written, its exit status.

import Foundation
import Logging

/// One `hookspool run`: take up orphaned and due deferred files, claim the ready ones, deliver
/// every due event to its endpoints, finish the files, write the report.
///
/// The phases, each its own part: `WorkList` (what to work on), `LaneSetup` (one `EndpointLane`
/// per endpoint), then per file `ClaimAhead` and `FileOpener`, `FileReader` (with
/// `ReadAheadPolicy`) handing deliveries to `DeliveryStarter` and the `Dispatcher`,
/// `FileFinisher` (with `DeferralSchedule`); last `HealthRecorder`, the report and the exit status.
public struct BatchRun: Sendable {
    /// What a run produced.
    public struct Outcome: Sendable {
        public var report: RunReport
        /// Where the report was written; nil if it could not be.
        public var reportFiles: ReportWriter.Written?
        public var exitStatus: ExitStatus
    }

    public let config: Config
    /// Route and sign, but send nothing and move nothing.
    public let dryRun: Bool
    public let logger: Logger
    /// Asks the run to stop early.
    public let control: RunControl
    /// Shows the run's live counters to whoever started it.
    public let monitor: RunMonitor
    /// The time the run reads.
    let clock: any RunClock
    /// Makes each endpoint's transport (HTTP; scripted in tests).
    let makeTransport: LaneSetup.MakeTransport

    public init(config: Config, dryRun: Bool = false, control: RunControl = RunControl(), monitor: RunMonitor = RunMonitor(), logger: Logger) {
        let tls = TLSContexts()
        let names = HostLookups()
        self.init(config: config, dryRun: dryRun, control: control, monitor: monitor, logger: logger, clock: SystemClock()) { endpoint, pinned in
            HTTPTransport(endpoint: endpoint, pinned: pinned, tls: tls, names: names)
        }
    }

    /// A run on `clock`, its endpoints reached through `makeTransport`.
    init(
        config: Config, dryRun: Bool = false, control: RunControl = RunControl(), monitor: RunMonitor = RunMonitor(), logger: Logger,
        clock: any RunClock, makeTransport: @escaping LaneSetup.MakeTransport
    ) {
        self.config = config
        self.dryRun = dryRun
        self.control = control
        self.monitor = monitor
        self.logger = logger
        self.clock = clock
        self.makeTransport = makeTransport
    }

    public func run() async -> Outcome {
        let started = clock.unixTime
        let startUptime = clock.uptime
        let runID = Self.makeRunID(unixTime: started)
        let ledger = Ledger(endpoints: config.endpoints)
        monitor.attach(ledger)
        var logger = self.logger
        logger[metadataKey: "hookspool.run"] = "\(runID)"
        let context = RunContext(
            config: config, dryRun: dryRun, runID: runID, spool: Spool(root: config.spoolDirectory, maxFileBytes: config.limits.maxFileBytes),
            clock: clock, control: control, ledger: ledger, logger: logger
        )

        if let work = WorkList.plan(context) {
            ledger.planned(files: work.count)
            if work.isEmpty {
                logger.debug("nothing to do", metadata: ["hookspool.spool": "\(context.spool.root)"])
            } else {
                await deliver(work, context: context)
            }
        }

        let finished = clock.unixTime
        let report = ledger.report(
            runID: runID, startedAt: RFC3339.format(unixTime: started), finishedAt: RFC3339.format(unixTime: finished),
            durationMs: (clock.uptime - startUptime).milliseconds, dryRun: dryRun
        )
        var written: ReportWriter.Written?
        var reportFailed = false
        do {
            written = try ReportWriter(directory: config.reportDirectory, keep: config.reportKeep).write(report, updateLatest: !dryRun)
        } catch {
            reportFailed = true
            logger.error("cannot write the report", metadata: ["error": "\(error)"])
        }
        var status = Self.exitStatus(report, ioError: ledger.hadIOError || reportFailed, refused: ledger.refusedFiles > 0, stopped: control.isStopping)
        if !writeMetrics(report, status: status, finished: Date(timeIntervalSince1970: finished), ledger: ledger, logger: logger) { status = .ioError }
        let outcome = Outcome(report: report, reportFiles: written, exitStatus: status)
        logger.log(level: Outcome.summaryLevel, Outcome.summaryMessage, metadata: outcome.summaryMetadata)
        return outcome
    }

    /// Delivers the files of `work`, in order, through one lane per endpoint.
    private func deliver(_ work: [WorkItem], context: RunContext) async {
        let health = HealthRecorder(context: context, store: HealthStore(spoolDirectory: context.spool.root))
        let window = ReadAheadPolicy.window(concurrency: config.delivery.concurrency)
        let lanes = await LaneSetup(context: context, health: health.store, makeTransport: makeTransport)
            .lanes(share: ReadAheadPolicy.share(window: window, endpoints: config.endpoints.count))
        let dispatcher = Dispatcher(
            concurrency: config.delivery.concurrency, retryFor: config.delivery.retryFor, control: control, clock: clock,
            logger: context.logger, recordHold: { lane, until in health.recordHold(lane, untilUnix: until) }
        )
        let fifo = lanes.compactMap(\.fifo)
        let finisher = FileFinisher(context: context, schedule: DeferralSchedule(steps: config.delivery.retrySchedule), fifo: fifo)
        let starter = DeliveryStarter(context: context, dispatcher: dispatcher, window: AsyncSemaphore(permits: window, clock: clock), finisher: finisher)
        let reader = FileReader(context: context, starter: starter, policy: ReadAheadPolicy())

        await withDiscardingTaskGroup { group in
            var claims = ClaimAhead(work: work, spool: context.spool, fifo: fifo)
            var carry = FileReader.Carry(router: LaneRouter(lanes: lanes))
            for (position, item) in work.enumerated() {
                if control.isStopping {
                    claims.release(unstarted: item)
                    continue
                }
                let claim = if case .claim = item { claims.claim(at: position) } else { Result<ClaimResult, FileSystemError>?.none }
                if case .resume(let orphan) = item {
                    // Already in line unless a run without `ordering: fifo` claimed it.
                    for lane in fifo { _ = lane.add([orphan.name]) }
                }
                guard let file = FileOpener.open(item, claim: claim, context: context) else { continue }
                context.ledger.fileStarted()
                var complete = false
                do {
                    complete = try await reader.read(file, moreFiles: position + 1 < work.count, carry: &carry, group: &group)
                } catch {
                    file.abandon()
                    context.ioError(
                        "cannot read \(file.name): \(error); it stays in processing/ for a later run", log: "cannot read a spool file; it stays in processing/",
                        file: file.name, error: error
                    )
                }
                for lane in fifo { lane.readingFinished(file.name, complete: complete && !file.isAbandoned) }
                if file.readingFinished(complete: complete) { await finisher.finish(file) }
            }
            context.ledger.readingFinished()
            // From here each delivery that ends closes what its lane no longer needs; these are the lanes already idle.
            for lane in lanes { lane.closeSpareConnections() }
        }
        await withDiscardingTaskGroup { group in
            for lane in lanes { group.addTask { await lane.transport.shutdown() } }
        }
        if !dryRun { health.recordRun(lanes) }
    }

    /// 74 for spool or report trouble; 1 when something failed for good (or a producer's line or
    /// file was refused); 75 when work is left for later; else 0.
    static func exitStatus(_ report: RunReport, ioError: Bool, refused: Bool, stopped: Bool) -> ExitStatus {
        if ioError { return .ioError }
        if report.totals.failed > 0 || report.totals.invalidLines > 0 || refused { return .failures }
        if report.totals.deferred > 0 || report.totals.filesDeferred > 0 || stopped { return .tempFail }
        return .ok
    }

    /// `20261129T051500Z-3fa2c01b99d4`: sorts by time, unique among runs started in the same second on any host.
    static func makeRunID(unixTime: Double) -> String {
        let stamp = RFC3339.format(secondsSince1970: Int(unixTime.rounded(.down)))
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        // 48 random bits: runs on many hosts share one report folder, and two that start in the same
        // second must not take each other's report names.
        return "\(stamp)-\(FileSystem.randomHex().suffix(12))"
    }
}
