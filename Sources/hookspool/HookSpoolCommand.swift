import ArgumentParser
import HookSpool
import Logging

/// The `hookspool` command line.
@main
struct HookSpoolCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hookspool",
        abstract: "A batch webhook dispatcher: delivers spooled events as signed POSTs, with retry and a report.",
        version: HookSpoolVersion.current,
        subcommands: [
            RunCommand.self, CheckCommand.self, DemoCommand.self, ReplayCommand.self, EndpointsCommand.self,
            PingCommand.self, ReceiveCommand.self, VerifyCommand.self, SecretCommand.self, EnqueueCommand.self,
        ]
    )

    /// ArgumentParser's entry point, once the arguments could be read. On Linux the Swift runtime
    /// finds argv through /proc/self/maps; without /proc (a bare chroot) the arguments are empty,
    /// not even the program's name, and `hookspool run` would print the help and exit 0.
    static func main() async {
        ProcessLimits.growHeapsInLargeSteps()
        guard !CommandLine.arguments.isEmpty else {
            printError("hookspool: cannot read the command line: the Swift runtime reads it through /proc/self/maps; mount /proc (e.g. mount -t proc proc /proc in the chroot)")
            Self.exit(withError: ExitCode(ExitStatus.osError.rawValue))
        }
        await main(nil)
    }
}

/// Options every command that logs shares.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(name: .long, help: "logfmt (key=value lines) or json (one object per line).")
    var logFormat: LogLineFormat = .logfmt

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Start each log line with its syslog priority (<3> error … <6> info), for logger --prio-prefix.",
            discussion: "Automatic when standard error is the journal (JOURNAL_STREAM names it, as systemd sets it)."
        )
    )
    var logPriority = false

    /// A logger that writes one line per record to standard error, in the chosen format, at the chosen level.
    func makeLogger(label: String = "hookspool") -> Logger {
        makeLogger(label: label, level: logLevel)
    }

    /// The same logger at another level.
    func makeLogger(label: String = "hookspool", level: Logger.Level) -> Logger {
        let format = logFormat
        let priority = logPriority || LineLogHandler.toJournal
        var logger = Logger(label: label) { _ in LineLogHandler(format: format, priority: priority) }
        logger.logLevel = level
        return logger
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension LogLineFormat: ExpressibleByArgument {}

/// Options of commands that read a config file.
struct ConfigOptions: ParsableArguments {
    /// The config file when none is given.
    static let defaultPath = "config.yaml"

    @Option(name: .long, help: "The config file.")
    var config: String = defaultPath

    /// Loads the config, printing every mistake and exiting 78 if there is one.
    func load() throws -> Config {
        try loadConfig(config)
    }
}

/// Loads the config at `path`, printing every mistake and exiting 78 if there is one.
func loadConfig(_ path: String) throws -> Config {
    do {
        return try Config.load(file: path)
    } catch {
        printError(error.description)
        let count = error.issues.count
        printError("hookspool: \(count) config \(count == 1 ? "error" : "errors"); nothing was sent")
        throw ExitCode(ExitStatus.config.rawValue)
    }
}

/// Writes a line to standard error.
func printError(_ text: String) {
    var stream = StandardError()
    print(text, to: &stream)
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleStream.writeStandardError(string)
    }
}
