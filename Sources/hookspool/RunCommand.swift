import ArgumentParser
import Foundation
import HookSpool
import Logging
import UnixSignals

/// `hookspool run`: one batch over the spool.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Deliver every ready spool file once, then write the report.",
        discussion: """
            Exit codes: 0 all delivered or nothing to do; 1 some delivery failed for good or some line was \
            invalid; 74 the spool or report folder is unusable; 75 work was left for a later run (deferred \
            deliveries, or stopped by SIGTERM/SIGINT); 78 the config is wrong.
            """
    )

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(name: .long, help: "Route and sign, but send nothing and move nothing.")
    var dryRun = false

    @Option(name: .long, help: "After SIGTERM/SIGINT, how long requests in flight may finish (e.g. 5s).")
    var grace: String = "5s"

    func validate() throws {
        guard CommandLineValues.duration(grace) != nil else {
            throw ValidationError("--grace: '\(grace)' is not a duration; write e.g. 500ms, 5s")
        }
    }

    func run() async throws {
        ProcessLimits.raiseOpenFileLimit()
        let config = try configOptions.load()
        let logger = logging.makeLogger()
        let monitor = RunMonitor()
        let outcome = await ProgressLine.showing(monitor) {
            await runStoppable(BatchRun(config: config, dryRun: dryRun, control: RunControl(), monitor: monitor, logger: logger), grace: CommandLineValues.duration(grace) ?? .seconds(5), logger: logger)
        }
        // The summary line is printed at every --log-level: above notice the run's own one was filtered out.
        if logging.logLevel > BatchRun.Outcome.summaryLevel {
            logging.makeLogger(level: BatchRun.Outcome.summaryLevel).log(level: BatchRun.Outcome.summaryLevel, BatchRun.Outcome.summaryMessage, metadata: outcome.summaryMetadata)
        }
        if outcome.exitStatus != .ok {
            throw ExitCode(outcome.exitStatus.rawValue)
        }
    }
}

/// Runs a batch so that SIGTERM or SIGINT stops it gracefully: no new attempts, requests in
/// flight get `grace` to finish, unfinished files are left for a later run, the report is written.
/// A second signal exits at once with 75; what was journalled stays journalled.
func runStoppable(_ run: BatchRun, grace: Duration, logger: Logger) async -> BatchRun.Outcome {
    let batch = Task { await run.run() }
    let watcher = Task {
        var signals = await UnixSignalsSequence(trapping: .sigterm, .sigint).makeAsyncIterator()
        guard let first = await signals.next() else { return }
        logger.notice("stopping: no new attempts; requests in flight may finish", metadata: ["signal": "\(first)", "grace": "\(grace)"])
        run.control.requestStop()
        let force = Task {
            try await Task.sleep(for: grace)
            logger.warning("grace period over; cancelling requests still in flight")
            batch.cancel()
        }
        defer { force.cancel() }
        if let second = await signals.next() {
            logger.warning("second signal: exiting now; unfinished files are resumed by the next run", metadata: ["signal": "\(second)"])
            exit(ExitStatus.tempFail.rawValue)
        }
    }
    let outcome = await batch.value
    watcher.cancel()
    return outcome
}
