// Ledger stage. Takes every outcome, invalid line, finished file and error as the run goes;
// gives live progress and, at the end, the figures of the report.

import Synchronization

/// Collects every outcome of a run as it happens, and turns them into the report at the end.
///
/// Memory stays bounded: latencies go into histograms and at most `failureCap` failure rows are kept
/// (the failures sidecars in the spool hold every one).
final class Ledger: Sendable {
    private struct State {
        var totals = RunReport.Totals()
        var files: [RunReport.FileSummary] = []
        var failures: [RunReport.FailureRow] = []
        var failuresOmitted = 0
        var errors: [String] = []
        var ioError = false
        var refusedFiles = 0
        var unresumable = 0
        var filesPlanned = 0
        var readingFinished = false
    }

    /// Failure rows kept for the report.
    let failureCap: Int
    /// The endpoints, in config order, and each one's figures (its lane keeps them).
    private let endpoints: [Endpoint]
    let tallies: [EndpointTally]
    private let state = Mutex(State())

    init(endpoints: [Endpoint], failureCap: Int = 10_000) {
        self.failureCap = failureCap
        self.endpoints = endpoints
        tallies = endpoints.map { _ in EndpointTally() }
    }

    func fileStarted() {
        state.withLock { $0.totals.files += 1 }
    }

    /// Counts an event: `deliveries` due in this run; `unrouted` when no endpoint subscribes to it at all.
    func eventRead(deliveries: Int, unrouted: Bool) {
        state.withLock {
            $0.totals.events += 1
            $0.totals.deliveries += deliveries
            if unrouted { $0.totals.unrouted += 1 }
        }
    }

    /// Counts deliveries of events read earlier (a second pass over a file).
    func deliveriesRead(_ count: Int) {
        state.withLock { $0.totals.deliveries += count }
    }

    func invalidLine(_ row: RunReport.FailureRow) {
        state.withLock { state in
            state.totals.invalidLines += 1
            Self.keep(row, in: &state, cap: failureCap)
        }
    }

    /// Counts the outcome of one delivery to the endpoint `tally` belongs to; `row` is its report row when it failed for good.
    func record(_ outcome: DeliveryOutcome, row: @autoclosure () -> RunReport.FailureRow?, tally: EndpointTally) {
        state.withLock { state in
            switch outcome {
            case .delivered:
                state.totals.delivered += 1
            case .failed:
                state.totals.failed += 1
                if let row = row() { Self.keep(row, in: &state, cap: failureCap) }
            case .deferred, .interrupted, .held:
                state.totals.deferred += 1
            }
        }
        tally.outcome(outcome)
    }

    func fileFinished(_ summary: RunReport.FileSummary) {
        state.withLock { state in
            state.files.append(summary)
            switch summary.outcome {
            case .done: state.totals.filesDone += 1
            case .failed: state.totals.filesFailed += 1
            case .deferred: state.totals.filesDeferred += 1
            }
        }
    }

    /// Records a problem that stopped part of the run; `io` marks spool or report trouble (exit 74).
    func error(_ message: String, io: Bool) {
        state.withLock {
            $0.errors.append(message)
            if io { $0.ioError = true }
        }
    }

    var hadIOError: Bool { state.withLock { $0.ioError } }

    /// Refused entries listed one by one in `errors`; the rest are counted in one more line.
    static let refusedListed = 100

    /// Records a name in `incoming/` that is not a spool file (left where it is): an error of the
    /// producer's, like an invalid line, so the run exits 1. Returns whether it is listed (the first `refusedListed`).
    @discardableResult
    func refused(_ entry: RefusedEntry) -> Bool {
        state.withLock { state in
            state.refusedFiles += 1
            guard state.refusedFiles <= Self.refusedListed else { return false }
            state.errors.append("refused incoming/\(entry.name): \(entry.reason); left where it is, never read")
            return true
        }
    }

    /// Records a file in `processing/` that cannot be resumed (a sentence saying why); the run exits 1.
    func refusedInProcessing(_ problem: String) {
        state.withLock { state in
            state.unresumable += 1
            state.errors.append(problem)
        }
    }

    /// How many names in `incoming/` were refused, and files in `processing/` could not be resumed.
    var refusedFiles: Int { state.withLock { $0.refusedFiles + $0.unresumable } }

    /// How many files the run means to work on, once the spool has been listed.
    func planned(files: Int) {
        state.withLock { $0.filesPlanned = files }
    }

    /// Every file has been read; no more deliveries will be due.
    func readingFinished() {
        state.withLock { $0.readingFinished = true }
    }

    /// Whether every file has been read.
    var isReadingFinished: Bool {
        state.withLock { $0.readingFinished }
    }

    /// The live counters, for a progress display: one lock, a few integers copied.
    var progress: RunProgress {
        let (attempts, _) = attemptTotals()
        return state.withLock { state in
            var progress = RunProgress()
            progress.filesPlanned = state.filesPlanned
            progress.filesStarted = state.totals.files
            progress.filesFinished = state.files.count
            progress.events = state.totals.events
            progress.invalidLines = state.totals.invalidLines
            progress.deliveries = state.totals.deliveries
            progress.delivered = state.totals.delivered
            progress.failed = state.totals.failed
            progress.deferred = state.totals.deferred
            progress.attempts = attempts
            progress.readingFinished = state.readingFinished
            return progress
        }
    }

    /// Each endpoint's attempt latencies, in config order, for the metrics' histograms.
    func latencyHistograms() -> [LatencyHistogram] {
        tallies.map(\.figures.latency)
    }

    /// Each endpoint's figures so far, in config order, as the report shows them.
    func endpointSummaries() -> [RunReport.EndpointSummary] {
        zip(endpoints, tallies).map { endpoint, tally in
            let figures = tally.figures
            var summary = RunReport.EndpointSummary(name: endpoint.name, url: endpoint.url.redacted, latencyMs: RunReport.Latency(
                p50: figures.latency.percentile(0.50),
                p90: figures.latency.percentile(0.90),
                p99: figures.latency.percentile(0.99),
                max: figures.latency.maxMilliseconds
            ))
            summary.attempts = figures.attempts
            summary.statusCodes = figures.statusCodes
            summary.delivered = figures.delivered
            summary.failed = figures.failed
            summary.deferred = figures.deferred
            summary.disabled = figures.disabled
            if let limit = endpoint.rateLimit {
                var rate = RunReport.RateLimitSummary(limit: limit.description)
                rate.waited = figures.rateLimitWaits
                rate.waitTotalMs = figures.rateLimitWaitTotal.milliseconds
                rate.waitMaxMs = figures.rateLimitWaitMax.milliseconds
                rate.slowdowns = figures.rateLimitSlowdowns
                summary.rateLimit = rate
            }
            if endpoint.ordering == .fifo {
                summary.ordering = RunReport.OrderingSummary(mode: endpoint.ordering.rawValue, held: figures.held)
            }
            return summary
        }
    }

    /// Attempts and retries so far, across the endpoints.
    private func attemptTotals() -> (attempts: Int, retries: Int) {
        tallies.reduce((0, 0)) { sum, tally in
            let figures = tally.figures
            return (sum.0 + figures.attempts, sum.1 + figures.retries)
        }
    }

    /// The report of everything recorded so far.
    func report(runID: String, startedAt: String, finishedAt: String, durationMs: Int64, dryRun: Bool) -> RunReport {
        let endpoints = endpointSummaries()
        let (attempts, retries) = attemptTotals()
        return state.withLock { state in
            var totals = state.totals
            totals.attempts = attempts
            totals.retries = retries
            var errors = state.errors
            if state.refusedFiles > Self.refusedListed {
                errors.append("refused \(state.refusedFiles - Self.refusedListed) more names in incoming/ (not listed)")
            }
            let failures = state.failures.sorted { ($0.file, $0.line, $0.endpoint ?? "") < ($1.file, $1.line, $1.endpoint ?? "") }
            return RunReport(
                runID: runID,
                startedAt: startedAt,
                finishedAt: finishedAt,
                durationMs: durationMs,
                dryRun: dryRun,
                totals: totals,
                endpoints: endpoints,
                files: state.files,
                failures: failures,
                failuresOmitted: state.failuresOmitted,
                errors: errors
            )
        }
    }

    private static func keep(_ row: RunReport.FailureRow, in state: inout State, cap: Int) {
        if state.failures.count < cap {
            state.failures.append(row)
        } else {
            state.failuresOmitted += 1
        }
    }
}
