import ArgumentParser
import HookSpool
import Logging

/// `hookspool replay [FILE…]`: send failed deliveries again, all of `failed/` or the named files,
/// those a filter picks and only those.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Requeue exactly the failed deliveries you choose from failed/, then run a batch.",
        discussion: """
            With no FILE, every file in failed/ that has failed deliveries. The filters combine (each \
            one repeated means any of its values): --endpoint, --type, --since/--until (the first \
            attempt's time) and --status. Deliveries that succeeded, and failed ones no filter picks, \
            are not sent; those stay in failed/ with their file. A file whose picked deliveries all \
            succeed goes to done/. Each picked delivery is requeued once, even with two replays at once. \
            Exit codes as for `run`; 65 when nothing matches (or a named file cannot be replayed); \
            64 for a bad filter. --dry-run lists what would be sent and changes nothing.
            """
    )

    @Argument(help: "Files in the spool's failed/ folder (names, or paths to them); none: all of failed/.")
    var files: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only deliveries to this endpoint (repeatable).", valueName: "name"))
    var endpoint: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only events whose type matches this glob, e.g. 'order.*' (repeatable).", valueName: "glob"))
    var type: [String] = []

    @Option(name: .long, help: ArgumentHelp("Only deliveries first attempted at or after this RFC 3339 time.", valueName: "time"))
    var since: String?

    @Option(name: .long, help: ArgumentHelp("Only deliveries first attempted at or before this RFC 3339 time.", valueName: "time"))
    var until: String?

    @Option(name: .long, help: ArgumentHelp("Only deliveries whose last answer was this: a status (503) or a failure (timeout, connect_error, rejected, …) (repeatable).", valueName: "code"))
    var status: [String] = []

    @Flag(name: .long, help: "List the deliveries that would be requeued; change nothing and send nothing.")
    var dryRun = false

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var logging: LoggingOptions

    /// The filters, checked; a mistake is a usage error.
    func filter() throws -> Replay.Filter {
        var filter = Replay.Filter(endpoints: Set(endpoint), statuses: Set(status))
        for glob in type {
            do {
                filter.types.append(try EventPattern(glob))
            } catch {
                throw ValidationError("--type '\(glob)': \(error.description)")
            }
        }
        for (option, text, keyPath) in [("--since", since, \Replay.Filter.since), ("--until", until, \Replay.Filter.until)] {
            guard let text else { continue }
            guard let millis = RFC3339.milliseconds(text) else {
                throw ValidationError("\(option) '\(text)' is not an RFC 3339 date-time (e.g. 2026-12-01T00:00:00Z)")
            }
            filter[keyPath: keyPath] = millis
        }
        if let since = filter.since, let until = filter.until, since > until {
            throw ValidationError("--since is after --until: nothing could match")
        }
        return filter
    }

    func run() async throws {
        ProcessLimits.raiseOpenFileLimit()
        let filter = try self.filter()
        let config = try configOptions.load()
        let logger = logging.makeLogger()
        let spool = Spool(root: config.spoolDirectory)
        if let unknown = endpoint.first(where: { name in !config.endpoints.contains { $0.name == name } }) {
            printError("hookspool replay: --endpoint \(unknown): no endpoint of that name in \(config.file)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        let names: [String]
        do {
            names = files.isEmpty ? try Replay.failedFiles(spool: spool) : files
        } catch {
            printError("hookspool replay: cannot list \(spool.failed): \(error)")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        var picked = 0
        var problems = 0
        for name in names {
            do {
                if dryRun {
                    let selection = try Replay.select(name, spool: spool, filter: filter)
                    for row in selection.picked {
                        let last = row.lastStatus.map(String.init) ?? row.lastError ?? "-"
                        print("\(selection.name):\(row.line)\t\(row.endpoint ?? "-")\t\(row.eventID ?? "-")\t\(row.eventType ?? "-")\tlast \(last)\tfirst attempt \(row.firstAttempt ?? "unknown")")
                    }
                    picked += selection.picked.count
                } else {
                    let requeued = try Replay.requeue(name, spool: spool, filter: filter)
                    picked += requeued.deliveries
                    logger.notice(
                        "requeued for replay",
                        metadata: [
                            "hookspool.file": "\(requeued.name)", "deliveries": "\(requeued.deliveries)", "left_in_failed": "\(requeued.leftOut)",
                            "invalid_lines": "\(requeued.invalidLines)",
                        ]
                    )
                }
            } catch let problem as Replay.Problem {
                problems += 1
                // With no FILE, a file with nothing that matches is no news; a named one is.
                if !files.isEmpty || !problem.description.contains("matches") {
                    printError("hookspool replay: \(problem)")
                }
            } catch {
                printError("hookspool replay: \(name): \(error)")
                throw ExitCode(ExitStatus.ioError.rawValue)
            }
        }
        if dryRun {
            print("\(picked) deliver\(picked == 1 ? "y" : "ies") would be requeued")
            if picked == 0 { throw ExitCode(ExitStatus.dataError.rawValue) }
            return
        }
        guard picked > 0 else {
            if files.isEmpty { printError("hookspool replay: no failed delivery in \(spool.failed) matches") }
            throw ExitCode(ExitStatus.dataError.rawValue)
        }
        if !files.isEmpty && problems > 0 {
            // Named files that could not be replayed: what could be is requeued and sent all the same.
            logger.warning("some named files could not be replayed", metadata: ["files": "\(problems)"])
        }
        let outcome = await runStoppable(BatchRun(config: config, control: RunControl(), logger: logger), grace: .seconds(5), logger: logger)
        if outcome.exitStatus != .ok {
            throw ExitCode(outcome.exitStatus.rawValue)
        }
        if !files.isEmpty && problems > 0 {
            throw ExitCode(ExitStatus.dataError.rawValue)
        }
    }
}
