#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import Foundation
import Logging

/// One `hookspool run`: claim the ready files, deliver every event to its endpoints, finish the files, write the report.
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

    public init(config: Config, dryRun: Bool = false, logger: Logger) {
        self.config = config
        self.dryRun = dryRun
        self.logger = logger
    }

    public func run() async -> Outcome {
        let started = Date()
        let clock = ContinuousClock()
        let startInstant = clock.now
        let runID = Self.makeRunID(started)
        let ledger = Ledger(endpoints: config.endpoints)
        let spool = Spool(root: config.spoolDirectory)
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
            written = try ReportWriter(directory: config.reportDirectory).write(report, updateLatest: !dryRun)
        } catch {
            reportFailed = true
            logger.error("cannot write the report", metadata: ["error": "\(error)"])
        }
        let status: ExitStatus
        if ledger.hadIOError || reportFailed {
            status = .ioError
        } else if report.totals.failed > 0 || report.totals.invalidLines > 0 {
            status = .failures
        } else {
            status = .ok
        }
        let totals = report.totals
        logger.info(
            "run finished",
            metadata: [
                "files": "\(totals.files)", "events": "\(totals.events)", "deliveries": "\(totals.deliveries)",
                "delivered": "\(totals.delivered)", "failed": "\(totals.failed)", "invalid_lines": "\(totals.invalidLines)",
                "unrouted": "\(totals.unrouted)", "attempts": "\(totals.attempts)", "duration_ms": "\(report.durationMs)",
                "report": "\(written?.html ?? "none")", "exit": "\(status.rawValue)",
            ]
        )
        return Outcome(report: report, reportFiles: written, exitStatus: status)
    }

    /// Bound on deliveries read ahead of the senders (in flight or waiting to retry), so memory stays flat.
    var pendingLimit: Int { min(max(config.delivery.concurrency * 64, 1024), 16_384) }

    private func process(spool: Spool, runID: String, ledger: Ledger, logger: Logger) async {
        let ready: [SpoolEntry]
        do {
            try spool.prepare()
            let listing = try spool.readyFiles()
            ready = listing.ready
            for name in listing.ignored {
                logger.warning("ignoring a file that is not .ndjson or .jsonl", metadata: ["hookspool.file": "incoming/\(name)"])
            }
        } catch {
            ledger.error("spool folder unusable: \(error)", io: true)
            logger.error("spool folder unusable", metadata: ["error": "\(error)"])
            return
        }
        guard !ready.isEmpty else {
            logger.debug("nothing to do", metadata: ["hookspool.spool": "\(spool.root)"])
            return
        }

        let (resolutions, pins) = await HostResolver.resolve(config.endpoints)
        for (endpoint, resolution) in zip(config.endpoints, resolutions) {
            switch resolution {
            case .unresolved(let reason):
                logger.error("endpoint host does not resolve; its deliveries fail in this run", metadata: ["hookspool.endpoint": "\(endpoint.name)", "dns.error": "\(reason)"])
            case .refused(let address, let category):
                logger.error(
                    "endpoint host resolves to a refused address; its deliveries fail (set allow_private: true if intended)",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)", "net.address": "\(address)", "net.category": "\(category)"]
                )
            case .direct, .pinned:
                break
            }
        }

        let connectionsPerHost = config.endpoints.map { $0.concurrency ?? config.delivery.concurrency }.max() ?? config.delivery.concurrency
        let longestTimeout = config.endpoints.map(\.timeout).max() ?? config.delivery.timeout
        let client = HTTPTransport.makeClient(connectionsPerHost: connectionsPerHost, connectTimeout: longestTimeout, pins: pins)
        let targets = zip(config.endpoints, resolutions).map { endpoint, resolution in
            Dispatcher.Target(
                endpoint: endpoint,
                resolution: resolution,
                limit: endpoint.concurrency.map { AsyncSemaphore(permits: $0) },
                retryPolicy: RetryPolicy(maxAttempts: endpoint.maxAttempts, backoff: endpoint.backoff)
            )
        }
        let dispatcher = Dispatcher(
            targets: targets,
            concurrency: config.delivery.concurrency,
            transport: HTTPTransport(client: client),
            ledger: ledger,
            logger: logger
        )

        await withDiscardingTaskGroup { group in
            let window = AsyncSemaphore(permits: pendingLimit)
            var router = Router(endpoints: config.endpoints)
            for entry in ready {
                let path: String
                if dryRun {
                    path = "\(spool.incoming)/\(entry.name)"
                } else {
                    do {
                        switch try spool.claim(entry) {
                        case .claimed(let claimed):
                            path = claimed
                        case .alreadyClaimed:
                            continue
                        case .nameBusy:
                            logger.warning("a file of the same name is still in processing/; leaving this one for a later run", metadata: ["hookspool.file": "\(entry.name)"])
                            continue
                        }
                    } catch {
                        ledger.error("cannot claim \(entry.name): \(error)", io: true)
                        logger.error("cannot claim a spool file", metadata: ["hookspool.file": "\(entry.name)", "error": "\(error)"])
                        continue
                    }
                }
                let file = FileTask(name: entry.name, sidecarPath: dryRun ? nil : "\(spool.processing)/\(Spool.sidecarName(for: entry.name))")
                ledger.fileStarted()
                let decoder = EventDecoder(fileName: entry.name, defaultTimestamp: RFC3339.format(secondsSince1970: Int(entry.modified.tv_sec)))
                do {
                    let reader = try LineReader(path: path, maxLineBytes: config.limits.maxEventBytes)
                    while let (number, decoded) = try reader.next({ line -> (Int, EventDecoder.Decoded) in
                        switch line {
                        case .text(let number, let bytes):
                            return (number, decoder.decode(number: number, bytes: bytes))
                        case .oversized(let number, let length):
                            return (number, .invalid(reason: "line is \(length) bytes, more than limits.max_event_bytes (\(config.limits.maxEventBytes))"))
                        }
                    }) {
                        switch decoded {
                        case .blank:
                            continue
                        case .invalid(let reason):
                            let row = RunReport.FailureRow(
                                file: entry.name, line: number, eventID: nil, eventType: nil, endpoint: nil, attempts: 0,
                                lastStatus: nil, lastError: reason, responseExcerpt: nil
                            )
                            ledger.invalidLine(row)
                            file.invalidLine(row)
                            logger.debug("invalid line", metadata: ["hookspool.file": "\(entry.name)", "hookspool.line": "\(number)", "reason": "\(reason)"])
                        case .event(let event):
                            let receivers = router.route(event.type)
                            ledger.eventRead(deliveries: receivers.count)
                            file.eventRead()
                            if dryRun {
                                for index in receivers {
                                    let headers = dispatcher.headers(for: event, endpoint: config.endpoints[index])
                                    logger.debug(
                                        "would deliver",
                                        metadata: ["hookspool.endpoint": "\(config.endpoints[index].name)", "hookspool.event_id": "\(event.id)", "headers": "\(headers.map(\.name))"]
                                    )
                                }
                                continue
                            }
                            for index in receivers {
                                await window.acquire()
                                file.deliveryScheduled()
                                group.addTask {
                                    let result = await dispatcher.deliver(event, to: index, file: entry.name)
                                    window.release()
                                    if file.deliveryFinished(result) {
                                        finish(file, spool: spool, runID: runID, ledger: ledger, logger: logger)
                                    }
                                }
                            }
                        }
                    }
                } catch {
                    file.abandon()
                    ledger.error("cannot read \(entry.name): \(error); it stays in processing/", io: true)
                    logger.error("cannot read a spool file; it stays in processing/", metadata: ["hookspool.file": "\(entry.name)", "error": "\(error)"])
                }
                if file.readingFinished() {
                    finish(file, spool: spool, runID: runID, ledger: ledger, logger: logger)
                }
            }
        }
        do {
            try await client.shutdown()
        } catch {
            logger.debug("HTTP client shutdown", metadata: ["error": "\(error)"])
        }
    }

    /// Moves a file whose every delivery finished, and records its row.
    private func finish(_ file: FileTask, spool: Spool, runID: String, ledger: Ledger, logger: Logger) {
        guard file.isComplete else { return }
        let outcome = file.outcome
        var movedTo: String?
        if !dryRun {
            do {
                try file.closeSidecar()
                movedTo = try spool.finish(name: file.name, outcome: outcome, runID: runID)
            } catch {
                ledger.error("cannot move \(file.name) out of processing/: \(error)", io: true)
                logger.error("cannot move a finished file", metadata: ["hookspool.file": "\(file.name)", "error": "\(error)"])
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
                "delivered": "\(summary.delivered)", "failed": "\(summary.failed)", "invalid_lines": "\(summary.invalidLines)",
                "moved_to": "\(movedTo ?? "-")",
            ]
        )
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
