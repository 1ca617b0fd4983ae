#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Logging
import NIOCore
import NIOPosix

/// One `hookspool run`: take up orphaned and due deferred files, claim the ready ones, deliver
/// every due event to its endpoints, finish the files, write the report.
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

    public init(config: Config, dryRun: Bool = false, control: RunControl = RunControl(), monitor: RunMonitor = RunMonitor(), logger: Logger) {
        self.config = config
        self.dryRun = dryRun
        self.control = control
        self.monitor = monitor
        self.logger = logger
    }

    public func run() async -> Outcome {
        let started = Date()
        let clock = ContinuousClock()
        let startInstant = clock.now
        let runID = Self.makeRunID(started)
        let ledger = Ledger(endpoints: config.endpoints)
        monitor.attach(ledger)
        let spool = Spool(root: config.spoolDirectory, maxFileBytes: config.limits.maxFileBytes)
        var logger = self.logger
        logger[metadataKey: "hookspool.run"] = "\(runID)"

        await process(spool: spool, runID: runID, ledger: ledger, logger: logger)

        let finished = Date()
        let report = ledger.report(
            runID: runID,
            startedAt: RFC3339.format(secondsSince1970: Int(started.timeIntervalSince1970), milliseconds: Self.millis(started)),
            finishedAt: RFC3339.format(secondsSince1970: Int(finished.timeIntervalSince1970), milliseconds: Self.millis(finished)),
            durationMs: startInstant.duration(to: clock.now).milliseconds,
            dryRun: dryRun
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
        if !writeMetrics(report, status: status, finished: finished, ledger: ledger, logger: logger) { status = .ioError }
        let outcome = Outcome(report: report, reportFiles: written, exitStatus: status)
        logger.log(level: Outcome.summaryLevel, Outcome.summaryMessage, metadata: outcome.summaryMetadata)
        return outcome
    }

    /// 74 for spool or report trouble; 1 when something failed for good (or a producer's line or
    /// file was refused); 75 when work is left for later; else 0.
    static func exitStatus(_ report: RunReport, ioError: Bool, refused: Bool, stopped: Bool) -> ExitStatus {
        if ioError { return .ioError }
        if report.totals.failed > 0 || report.totals.invalidLines > 0 || refused { return .failures }
        if report.totals.deferred > 0 || report.totals.filesDeferred > 0 || stopped { return .tempFail }
        return .ok
    }

    /// Bound on deliveries read ahead of the senders (in flight or waiting to retry), so memory stays flat.
    ///
    /// Each is a parked task of about 8 KiB (its frames and its event's body): 1,024 of them, with 64
    /// requests in flight, cost some 10 MiB; 4,096 cost 35 MiB and were no faster.
    var pendingLimit: Int { min(max(config.delivery.concurrency * 16, 1024), 16_384) }

    /// How long the reader waits for an endpoint that holds its whole share to finish one delivery
    /// before it leaves that endpoint's remaining deliveries in the file to a later pass.
    static let sharePatience = Duration.seconds(1)

    /// Deliveries one endpoint may hold of the read-ahead window: an equal part of it (at least 16)
    /// when there are several endpoints, so endpoints that stop answering cannot hold up the others.
    var endpointShare: Int { config.endpoints.count > 1 ? max(16, pendingLimit / config.endpoints.count) : pendingLimit }

    /// A file this run will work on.
    private enum WorkItem {
        case resume(ClaimedFile)
        case claim(SpoolEntry)
        case dryRun(SpoolEntry)
    }

    private func process(spool: Spool, runID: String, ledger: Ledger, logger: Logger) async {
        var work: [WorkItem] = []
        do {
            try spool.prepare()
            if dryRun {
                let listing = try spool.readyFiles()
                refuse(listing.refused, ledger: ledger, logger: logger)
                work = listing.ready.map { .dryRun($0) }
            } else {
                // Files whose run died first, then deferred files that are due, then new ones.
                let orphans = try spool.orphans { problem in
                    ledger.refusedInProcessing(problem)
                    logger.error("a file in processing/ cannot be resumed; it stays there", metadata: ["error": "\(problem)"])
                }
                for file in orphans {
                    logger.notice("resuming a file whose run stopped", metadata: ["hookspool.file": "\(file.name)"])
                }
                work = orphans.map { .resume($0) }
                let deferred = try spool.dueDeferred(now: Int64(Date().timeIntervalSince1970))
                work += deferred.due.map { .claim($0) }
                let listing = try spool.readyFiles()
                for name in listing.ignored {
                    logger.warning("ignoring a file that is not .ndjson or .jsonl", metadata: ["hookspool.file": "incoming/\(name)"])
                }
                refuse(listing.refused, ledger: ledger, logger: logger)
                work += listing.ready.map { .claim($0) }
            }
        } catch {
            ledger.error("spool folder unusable: \(error)", io: true)
            logger.error("spool folder unusable", metadata: ["error": "\(error)"])
            return
        }
        ledger.planned(files: work.count)
        guard !work.isEmpty else {
            logger.debug("nothing to do", metadata: ["hookspool.spool": "\(spool.root)"])
            return
        }

        let (resolutions, pins) = await HostResolver.resolve(config.endpoints)
        for (endpoint, resolution) in zip(config.endpoints, resolutions) {
            switch resolution {
            case .unresolved(let reason):
                logger.error("endpoint host does not resolve; its deliveries wait for a later run", metadata: ["hookspool.endpoint": "\(endpoint.name)", "dns.error": "\(reason)"])
            case .refused(let address, let category):
                logger.error(
                    "endpoint host resolves to a refused address; its deliveries fail (set allow_private: true if intended)",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)", "net.address": "\(address)", "net.category": "\(category)"]
                )
            case .direct, .pinned:
                break
            }
        }

        let transport = HTTPTransport(endpoints: config.endpoints, pins: pins)
        let health = HealthStore(spoolDirectory: spool.root)
        var known: [String: EndpointHealth] = [:]
        do {
            known = try health.load()
        } catch {
            ledger.error("cannot read the endpoints' health: \(error)", io: true)
            logger.error("cannot read the endpoints' health; treating every endpoint as enabled", metadata: ["error": "\(error)"])
        }
        let targets = zip(config.endpoints, resolutions).enumerated().map { index, pair in
            let (endpoint, resolution) = pair
            let reason = known[endpoint.name]?.disabled?.reason
            if let reason {
                ledger.endpointDisabled(index, reason: reason)
                logger.error(
                    "ENDPOINT DISABLED: its deliveries wait, unattempted, until `hookspool endpoints enable \(endpoint.name)`",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)", "reason": "\(reason)"]
                )
            }
            let holdUntil = known[endpoint.name]?.retryAfterUntil.flatMap(EndpointHealth.parse)?.timeIntervalSince1970 ?? 0
            return Dispatcher.Target(
                endpoint: endpoint,
                resolution: resolution,
                window: EndpointWindow(limit: endpoint.concurrency ?? config.delivery.concurrency),
                retryPolicy: RetryPolicy(maxAttempts: endpoint.maxAttempts, backoff: endpoint.backoff),
                disabled: DisableSwitch(reason: reason),
                hold: RetryAfterHold(untilUnix: holdUntil)
            )
        }
        let dispatcher = Dispatcher(
            targets: targets,
            concurrency: config.delivery.concurrency,
            retryFor: config.delivery.retryFor,
            transport: transport,
            ledger: ledger,
            control: control,
            logger: logger,
            recordHold: { [config] index, until in
                // Once per endpoint and wait, off the hot path: one locked update of endpoints.json.
                let name = config.endpoints[index].name
                do {
                    try health.update { health in
                        health[name, default: EndpointHealth()].holdRetryAfter(untilUnix: until)
                    }
                } catch {
                    logger.warning("cannot record an endpoint's Retry-After for later runs", metadata: ["hookspool.endpoint": "\(name)", "error": "\(error)"])
                }
            }
        )

        let syncer = FolderSyncer()
        await withDiscardingTaskGroup { group in
            let window = AsyncSemaphore(permits: pendingLimit)
            let shares = config.endpoints.map { _ in AsyncSemaphore(permits: endpointShare) }
            var router = Router(endpoints: config.endpoints)
            // Claims made ahead, a batch at a time: the outcomes for the next `.claim` items, in order.
            var claimedAhead = CircularBuffer<Result<ClaimResult, FileSystemError>>()
            var claimedUpTo = 0
            // Endpoints whose deliveries were left for the next run because they did not keep up.
            var lagging = Set<Int>()
            for (position, item) in work.enumerated() {
                if control.isStopping {
                    if case .resume(let claimed) = item { claimed.release() }
                    if case .claim = item, !claimedAhead.isEmpty, case .success(.claimed(let claimed)) = claimedAhead.removeFirst() {
                        // Claimed ahead but not started: left in processing/ for a later run.
                        claimed.release()
                    }
                    continue
                }
                var claim: Result<ClaimResult, FileSystemError>?
                if case .claim = item {
                    if claimedAhead.isEmpty {
                        var entries: [SpoolEntry] = []
                        var next = max(position, claimedUpTo)
                        // Small files only share a batch: a large file is claimed alone, so claims
                        // made ahead never hide much work from runs started meanwhile.
                        var bytes: Int64 = 0
                        while next < work.count, entries.count < Self.claimBatch, case .claim(let entry) = work[next],
                            entries.isEmpty || entry.size <= Self.claimBatchBytes - bytes
                        {
                            entries.append(entry)
                            bytes += entry.size
                            next += 1
                        }
                        claimedAhead.append(contentsOf: spool.claim(batch: entries))
                        claimedUpTo = next
                    }
                    claim = claimedAhead.popFirst()
                }
                guard let file = open(item, claim: claim, spool: spool, runID: runID, ledger: ledger, logger: logger) else { continue }
                ledger.fileStarted()
                var complete = false
                do {
                    complete = try await read(file, spool: spool, syncer: syncer, router: &router, dispatcher: dispatcher, window: window, shares: shares,
                        moreFiles: position + 1 < work.count, lagging: &lagging, group: &group, ledger: ledger, runID: runID, logger: logger
                    )
                } catch {
                    file.abandon()
                    ledger.error("cannot read \(file.name): \(error); it stays in processing/ for a later run", io: true)
                    logger.error("cannot read a spool file; it stays in processing/", metadata: ["hookspool.file": "\(file.name)", "error": "\(error)"])
                }
                if file.readingFinished(complete: complete) {
                    await finish(file, spool: spool, syncer: syncer, runID: runID, ledger: ledger, logger: logger)
                }
            }
            ledger.readingFinished()
        }
        await transport.shutdown()
        if !dryRun {
            recordHealth(health, holds: dispatcher.targets.map(\.hold), ledger: ledger, logger: logger)
        }
    }

    /// Reports names in `incoming/` that are not spool files; they stay where they are.
    private func refuse(_ entries: [RefusedEntry], ledger: Ledger, logger: Logger) {
        for entry in entries {
            // One log line each for as many as the report lists; then a count, at the end of the run.
            if ledger.refused(entry) {
                logger.error(
                    "refusing a file in incoming/ that is not a spool file; left where it is, never read",
                    metadata: ["hookspool.file": "incoming/\(entry.name)", "reason": "\(entry.reason)"]
                )
            }
        }
    }

    /// Folds this run's outcomes into each endpoint's health across runs.
    /// `holds` are the endpoints' `Retry-After` waits, kept for the runs that follow.
    private func recordHealth(_ store: HealthStore, holds: [RetryAfterHold], ledger: Ledger, logger: Logger) {
        let summaries = ledger.endpointSummaries()
        let now = Date()
        do {
            let updated = try store.update { health in
                for (endpoint, hold) in zip(config.endpoints, holds) {
                    // The later of what is stored (another run's, maybe) and this run's; a wait that is over goes.
                    let stored = health[endpoint.name]?.retryAfterUntil.flatMap(EndpointHealth.parse)?.timeIntervalSince1970 ?? 0
                    let until = max(stored, hold.untilUnix)
                    let text = until > now.timeIntervalSince1970 ? RFC3339.format(secondsSince1970: Int(until.rounded(.up))) : nil
                    if health[endpoint.name]?.retryAfterUntil != text {
                        health[endpoint.name, default: EndpointHealth()].retryAfterUntil = text
                    }
                }
                for (endpoint, summary) in zip(config.endpoints, summaries) {
                    let tally = EndpointHealth.RunTally(
                        delivered: summary.delivered,
                        unsuccessful: summary.attempts > 0 ? summary.failed + summary.deferred : 0,
                        gone: summary.statusCodes["410"] != nil
                    )
                    guard tally.delivered > 0 || tally.unsuccessful > 0 || tally.gone else { continue }
                    let wasDisabled = health[endpoint.name]?.disabled != nil
                    health[endpoint.name, default: EndpointHealth()].record(tally, runStarted: now, now: now, disableAfter: config.delivery.disableAfter)
                    if !wasDisabled, let disabled = health[endpoint.name]?.disabled {
                        logger.error(
                            "ENDPOINT DISABLED: its deliveries wait, unattempted, until `hookspool endpoints enable \(endpoint.name)`",
                            metadata: ["hookspool.endpoint": "\(endpoint.name)", "reason": "\(disabled.reason)"]
                        )
                    }
                }
            }
            for (index, endpoint) in config.endpoints.enumerated() {
                if let reason = updated[endpoint.name]?.disabled?.reason { ledger.endpointDisabled(index, reason: reason) }
            }
        } catch {
            ledger.error("cannot record the endpoints' health: \(error)", io: true)
            logger.error("cannot record the endpoints' health", metadata: ["error": "\(error)"])
        }
    }

    /// Files claimed together, sharing their folder fsyncs: at most this many, of at most `claimBatchBytes` together.
    static let claimBatch = 16
    static let claimBatchBytes: Int64 = 1 << 20

    /// Takes up a file (for `.claim`, with the outcome of its claim) and opens its journal; nil when
    /// it is not this run's to work on.
    private func open(
        _ item: WorkItem, claim: Result<ClaimResult, FileSystemError>?, spool: Spool, runID: String, ledger: Ledger, logger: Logger
    ) -> FileTask? {
        let claimed: ClaimedFile
        switch item {
        case .dryRun(let entry):
            return FileTask(name: entry.name, originalName: entry.name, claimed: nil, journal: nil, resume: Journal.State(), failuresPath: nil)
        case .resume(let file):
            claimed = file
        case .claim(let entry):
            do {
                guard let claim else { return nil }
                switch try claim.get() {
                case .claimed(let file):
                    claimed = file
                case .alreadyClaimed:
                    return nil
                case .nameBusy:
                    logger.warning("a file of the same name is still in processing/; leaving this one for a later run", metadata: ["hookspool.file": "\(entry.name)"])
                    return nil
                case .refused(let reason):
                    // Swapped for something else since the listing.
                    refuse([RefusedEntry(name: entry.name, reason: reason)], ledger: ledger, logger: logger)
                    return nil
                }
            } catch {
                ledger.error("cannot claim \(entry.name): \(error)", io: true)
                logger.error("cannot claim a spool file", metadata: ["hookspool.file": "\(entry.name)", "error": "\(error)"])
                return nil
            }
        }
        do {
            let journalPath = "\(spool.processing)/\(Spool.journalName(for: claimed.name))"
            let identity = FileSystem.identity(of: claimed.descriptor)
            var state = try Journal.read(journalPath)
            if let recorded = state.identity, recorded != identity {
                // Left behind by an earlier file of the same name (a crash between moves): not this file's.
                let aside = "\(journalPath).stale-\(runID)"
                _ = try FileSystem.moveNoReplace(journalPath, to: aside)
                logger.warning("set aside a journal that belongs to an earlier file of the same name", metadata: ["hookspool.file": "\(claimed.name)", "journal": "\(aside)"])
                state = Journal.State()
            }
            let journal = try JournalWriter(path: journalPath, validLength: state.validLength)
            let originalName = state.originalName ?? claimed.name
            if state.originalName == nil { journal.header(originalName: originalName, identity: identity) }
            let file = FileTask(
                name: claimed.name, originalName: originalName, claimed: claimed, journal: journal, resume: state,
                failuresPath: "\(spool.processing)/\(Spool.pendingFailuresName(for: claimed.name))"
            )
            try file.startFailures()
            return file
        } catch {
            ledger.error("cannot open the journal of \(claimed.name): \(error); it stays in processing/", io: true)
            logger.error("cannot open a journal; the file stays in processing/", metadata: ["hookspool.file": "\(claimed.name)", "error": "\(error)"])
            claimed.release()
            return nil
        }
    }

    /// What the reader does about one delivery whose endpoint's share of the read-ahead window is full.
    private enum ShareOutcome {
        /// A place was free, or came free: schedule it.
        case taken
        /// Leave this endpoint's deliveries from here to a later pass over the file.
        case behind
        /// Leave the rest of the file to the next run: this endpoint is not keeping up, and other files wait.
        case leave
    }

    /// Takes a place in an endpoint's share of the read-ahead window, waiting as long as it takes
    /// unless the endpoint has stopped finishing deliveries (no place came back for `sharePatience`):
    /// then `.behind` while one of `others` (the endpoints still read for in this pass) is moving,
    /// or `.leave` when `mayLeave` (a later pass, with more files after this one). An endpoint that
    /// is `lagging` (left behind before, and its share still full) gets no patience.
    private func takeShare(_ share: AsyncSemaphore, lagging: Bool, mayLeave: Bool, others: () -> [AsyncSemaphore]) async -> ShareOutcome {
        if lagging {
            if share.tryAcquire() { return .taken }
            return mayLeave ? .leave : .behind
        }
        while true {
            if await share.acquire(within: Self.sharePatience) { return .taken }
            // Stopping: the reader's next check ends the pass.
            if control.isStopping || Task.isCancelled { return .behind }
            if others().contains(where: { $0.isMoving(within: Self.sharePatience) }) { return .behind }
            if mayLeave { return .leave }
        }
    }

    /// Where an endpoint that fell behind takes up its deliveries again.
    private struct Behind {
        var line: Int
        var position: LineReader.Position
    }

    /// A reader over the claimed file (in a dry run, the file in `incoming/`, opened as a claim
    /// would), up to the size it had when opened; and the file's modification time.
    private func lineReader(for file: FileTask, spool: Spool, ledger: Ledger, logger: Logger) throws -> (LineReader, modified: timespec)? {
        if let claimed = file.claimed {
            let reader = LineReader(descriptor: claimed.descriptor, path: claimed.path, maxLineBytes: config.limits.maxEventBytes, limit: claimed.size)
            return (reader, claimed.modified)
        }
        switch FileSystem.openSpoolFile(file.name, in: spool.incoming, singleLink: true) {
        case .opened(let opened):
            let reader = LineReader(
                descriptor: opened.descriptor, path: "\(spool.incoming)/\(file.name)", maxLineBytes: config.limits.maxEventBytes,
                limit: opened.size, ownsDescriptor: true
            )
            return (reader, opened.modified)
        case .refused(let reason):
            refuse([RefusedEntry(name: file.name, reason: reason)], ledger: ledger, logger: logger)
            return nil
        case .missing:
            return nil
        case .failed(let error):
            throw error
        }
    }

    /// Starts one delivery, once the read-ahead window has room; its task gives back its place in
    /// the window and in its endpoint's `share`, journals the outcome, and finishes the file after its last delivery.
    private func schedule(
        _ event: Event, line number: Int, to index: Int, file: FileTask, share: AsyncSemaphore, window: AsyncSemaphore,
        group: inout DiscardingTaskGroup, spool: Spool, syncer: FolderSyncer, dispatcher: Dispatcher, ledger: Ledger, runID: String, logger: Logger
    ) async {
        let key = DeliveryKey(line: number, endpoint: config.endpoints[index].name)
        let firstAttempt = file.resume.firstAttempt[key]
        await window.acquire()
        file.deliveryScheduled()
        group.addTask {
            let result = await dispatcher.deliver(event, to: index, file: file.name, firstAttempt: firstAttempt)
            window.release()
            share.release()
            let last = file.deliveryFinished(key, result)
            ledger.record(result, endpoint: index)
            if let error = file.journal?.error, !control.isStopping {
                // Outcomes can no longer be recorded (a full disk, say): sending more would
                // only make duplicates for the run that resumes this file. Stop cleanly.
                ledger.error("cannot write the journal of \(file.name): \(error); stopping, a later run resumes", io: true)
                logger.error("cannot write a journal; stopping the run", metadata: ["hookspool.file": "\(file.name)", "error": "\(error)"])
                control.requestStop()
            }
            if last {
                await finish(file, spool: spool, syncer: syncer, runID: runID, ledger: ledger, logger: logger)
            }
        }
    }

    /// Reads a file and schedules every due delivery; returns whether it read to the end.
    ///
    /// An endpoint may hold at most its share of the read-ahead window (`shares`); when it has held
    /// all of it for a while, the others go on, and its remaining deliveries are read again in a later pass.
    private func read(
        _ file: FileTask, spool: Spool, syncer: FolderSyncer, router: inout Router, dispatcher: Dispatcher, window: AsyncSemaphore,
        shares: [AsyncSemaphore], moreFiles: Bool, lagging: inout Set<Int>, group: inout DiscardingTaskGroup, ledger: Ledger,
        runID: String, logger: Logger
    ) async throws -> Bool {
        guard let opened = try lineReader(for: file, spool: spool, ledger: ledger, logger: logger) else { return true }
        let (reader, modified) = opened
        // Per endpoint, where its deliveries wait for a later pass.
        var skippedFrom: [Int: Behind] = [:]
        // Endpoints this file has given deliveries to: only their progress tells a stalled endpoint.
        var served = Set<Int>()
        var lineStart = reader.position
        let decoder = EventDecoder(fileName: file.originalName, defaultTimestamp: RFC3339.format(secondsSince1970: Int(modified.tv_sec)))
        let maxEventBytes = config.limits.maxEventBytes
        while let (number, decoded) = try reader.next({ line -> (Int, EventDecoder.Decoded) in
            switch line {
            case .text(let number, let bytes):
                return (number, decoder.decode(number: number, bytes: bytes))
            case .oversized(let number, let length):
                return (number, .invalid(reason: "line is \(length) bytes, more than limits.max_event_bytes (\(maxEventBytes))"))
            }
        }) {
            let thisLine = lineStart
            lineStart = reader.position
            if control.isStopping { return false }
            switch decoded {
            case .blank:
                continue
            case .invalid(let reason):
                let row = RunReport.FailureRow(
                    file: file.name, line: number, eventID: nil, eventType: nil, endpoint: nil, attempts: 0,
                    lastStatus: nil, lastError: reason, responseExcerpt: nil
                )
                if file.invalidLine(row) { ledger.invalidLine(row) }
                logger.debug("invalid line", metadata: ["hookspool.file": "\(file.name)", "hookspool.line": "\(number)", "reason": "\(reason)"])
            case .event(let event):
                let routed = router.route(event.type)
                let receivers = routed.filter { file.isDue(DeliveryKey(line: number, endpoint: config.endpoints[$0].name)) }
                file.eventRead()
                if dryRun {
                    ledger.eventRead(deliveries: receivers.count, unrouted: routed.isEmpty)
                    for index in receivers {
                        let headers = dispatcher.headers(for: event, endpoint: config.endpoints[index])
                        logger.debug(
                            "would deliver",
                            metadata: ["hookspool.endpoint": "\(config.endpoints[index].name)", "hookspool.event_id": "\(event.id)", "headers": "\(headers.map(\.name))"]
                        )
                    }
                    continue
                }
                var now: [Int] = []
                for index in receivers where skippedFrom[index] == nil {
                    let going = skippedFrom
                    let others = { served.filter { $0 != index && going[$0] == nil }.map { shares[$0] } }
                    switch await takeShare(shares[index], lagging: lagging.contains(index), mayLeave: false, others: others) {
                    case .taken:
                        lagging.remove(index)
                        now.append(index)
                    case .behind, .leave:
                        skippedFrom[index] = Behind(line: number, position: thisLine)
                    }
                }
                ledger.eventRead(deliveries: now.count, unrouted: routed.isEmpty)
                for index in now {
                    served.insert(index)
                    await schedule(
                        event, line: number, to: index, file: file, share: shares[index], window: window, group: &group,
                        spool: spool, syncer: syncer, dispatcher: dispatcher, ledger: ledger, runID: runID, logger: logger
                    )
                }
            }
        }
        // Later passes: only the deliveries left to endpoints that fell behind, each from the line
        // where it did; one that falls behind again while others go on waits for the next pass.
        var pass = skippedFrom
        while let first = pass.values.min(by: { $0.line < $1.line }) {
            logger.debug("another pass for endpoints that fell behind", metadata: ["hookspool.file": "\(file.name)", "hookspool.line": "\(first.line)"])
            var behind: [Int: Behind] = [:]
            served = []
            reader.seek(to: first.position)
            lineStart = first.position
            while let (number, decoded) = try reader.next({ line -> (Int, EventDecoder.Decoded) in
                switch line {
                case .text(let number, let bytes): return (number, decoder.decode(number: number, bytes: bytes))
                case .oversized(let number, _): return (number, .blank)
                }
            }) {
                let thisLine = lineStart
                lineStart = reader.position
                if control.isStopping { return false }
                guard case .event(let event) = decoded else { continue }
                for index in router.route(event.type) {
                    guard let from = pass[index], number >= from.line, behind[index] == nil,
                        file.isDue(DeliveryKey(line: number, endpoint: config.endpoints[index].name))
                    else { continue }
                    let stillBehind = behind
                    let others = { served.filter { $0 != index && stillBehind[$0] == nil }.map { shares[$0] } }
                    switch await takeShare(shares[index], lagging: lagging.contains(index), mayLeave: moreFiles, others: others) {
                    case .taken:
                        lagging.remove(index)
                    case .behind:
                        behind[index] = Behind(line: number, position: thisLine)
                        continue
                    case .leave:
                        // Other files wait behind this one: the rest of it goes to the next run,
                        // which sends only what the journal does not record.
                        lagging.insert(index)
                        logger.warning(
                            "endpoint is not keeping up; the rest of this file is left for the next run",
                            metadata: ["hookspool.file": "\(file.name)", "hookspool.endpoint": "\(config.endpoints[index].name)", "hookspool.line": "\(number)"]
                        )
                        return false
                    }
                    served.insert(index)
                    ledger.deliveriesRead(1)
                    await schedule(
                        event, line: number, to: index, file: file, share: shares[index], window: window, group: &group,
                        spool: spool, syncer: syncer, dispatcher: dispatcher, ledger: ledger, runID: runID, logger: logger
                    )
                }
            }
            pass = behind
        }
        return true
    }

    /// Moves a file whose every delivery finished (or was left for later), and records its row.
    ///
    /// The blocking part (the journal's last fsync, the moves) runs on a thread-pool thread; the
    /// folders' fsyncs are shared with the files finishing at the same time.
    private func finish(_ file: FileTask, spool: Spool, syncer: FolderSyncer, runID: String, ledger: Ledger, logger: Logger) async {
        let outcome = file.outcome
        var movedTo: String?
        if let claimed = file.claimed {
            do {
                var nextAttempt: Int64?
                if outcome == .deferred {
                    let now = Int64(Date().timeIntervalSince1970)
                    if file.wasInterruptedOnly {
                        nextAttempt = now
                    } else {
                        let count = file.resume.deferrals + 1
                        // Never before an endpoint's Retry-After: its file is due when the wait is over.
                        let next = max(now + Self.deferral(count, schedule: config.delivery.retrySchedule), file.notBefore ?? 0)
                        file.journal?.fileDeferred(count: count, next: next)
                        nextAttempt = next
                    }
                }
                let next = nextAttempt
                // Through a future, not the async `runIfActive`, which skips the work when the task
                // is cancelled (a forced stop): a file whose deliveries all ended is always moved.
                let moved = try await NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) { () throws -> String in
                    try file.journal?.close()
                    try file.closeFailures()
                    return try spool.finish(claimed, outcome: outcome, runID: runID, nextAttempt: next, syncFolders: false)
                }.get()
                movedTo = moved
                do {
                    try await syncer.sync(spool.folder(for: outcome))
                    try await syncer.sync(spool.processing)
                } catch {
                    ledger.error("moved \(file.name) to \(moved) but could not make the move durable: \(error)", io: true)
                    logger.error("cannot make a finished file's move durable", metadata: ["hookspool.file": "\(file.name)", "moved_to": "\(moved)", "error": "\(error)"])
                }
                claimed.release()
            } catch {
                ledger.error("cannot move \(file.name) out of processing/: \(error); a later run resumes it", io: true)
                logger.error("cannot move a finished file; a later run resumes it", metadata: ["hookspool.file": "\(file.name)", "error": "\(error)"])
                claimed.release()
            }
        }
        let summary = file.summary(outcome: outcome, movedTo: movedTo)
        ledger.fileFinished(summary)
        let level: Logger.Level = outcome == .done ? .info : .warning
        logger.log(
            level: level,
            "file finished",
            metadata: [
                "hookspool.file": "\(file.name)", "outcome": "\(outcome.rawValue)", "events": "\(summary.events)",
                "delivered": "\(summary.delivered)", "failed": "\(summary.failed)", "deferred": "\(summary.deferred)",
                "invalid_lines": "\(summary.invalidLines)", "moved_to": "\(movedTo ?? "-")",
            ]
        )
    }

    /// Seconds until the next try of a file deferred for the `count`-th time: the schedule's entry (the last repeats), ±10%.
    static func deferral(_ count: Int, schedule: [Duration]) -> Int64 {
        let base = schedule.isEmpty ? Duration.seconds(300) : schedule[min(max(count - 1, 0), schedule.count - 1)]
        let seconds = base.seconds * Double.random(in: 0.9...1.1)
        return max(1, Int64(seconds.rounded()))
    }

    /// `20261129T051500Z-3fa2`: sorts by time, unique enough for runs started in the same second.
    static func makeRunID(_ date: Date) -> String {
        let stamp = RFC3339.format(secondsSince1970: Int(date.timeIntervalSince1970))
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ":", with: "")
        return "\(stamp)-\(String(format: "%04x", UInt16.random(in: 0...UInt16.max)))"
    }

    private static func millis(_ date: Date) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded(.down)) % 1000
    }
}
