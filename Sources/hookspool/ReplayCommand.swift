import ArgumentParser
import HookSpool
import Logging

/// `hookspool replay FILE`: send a failed file's failed deliveries again, and only those.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Requeue exactly the failed deliveries of a file in failed/, then run a batch.",
        discussion: """
            Deliveries that succeeded are not sent again. The file goes to done/ when every replayed \
            delivery succeeds. Exit codes as for `run`; 65 when the file has nothing to replay.
            """
    )

    @Argument(help: "A file in the spool's failed/ folder (its name, or a path to it).")
    var file: String

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        ProcessLimits.raiseOpenFileLimit()
        let config = try configOptions.load()
        let logger = logging.makeLogger()
        let spool = Spool(root: config.spoolDirectory)
        do {
            let requeued = try Replay.requeue(file, spool: spool)
            logger.notice(
                "requeued for replay",
                metadata: ["hookspool.file": "\(requeued.name)", "deliveries": "\(requeued.deliveries)", "invalid_lines": "\(requeued.invalidLines)"]
            )
        } catch let problem as Replay.Problem {
            printError("hookspool replay: \(problem)")
            throw ExitCode(ExitStatus.dataError.rawValue)
        } catch {
            printError("hookspool replay: \(error)")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        let outcome = await runStoppable(BatchRun(config: config, control: RunControl(), logger: logger), grace: .seconds(5), logger: logger)
        if outcome.exitStatus != .ok {
            throw ExitCode(outcome.exitStatus.rawValue)
        }
    }
}
