import ArgumentParser
import HookSpool

/// `hookspool run`: one batch over the spool.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Deliver every ready spool file once, then write the report.",
        discussion: """
            Exit codes: 0 all delivered or nothing to do; 1 some delivery failed or some line was invalid; \
            74 the spool or report folder is unusable; 78 the config is wrong.
            """
    )

    @OptionGroup var configOptions: ConfigOptions
    @OptionGroup var logging: LoggingOptions

    @Flag(name: .long, help: "Route and sign, but send nothing and move nothing.")
    var dryRun = false

    func run() async throws {
        let config = try configOptions.load()
        let outcome = await BatchRun(config: config, dryRun: dryRun, logger: logging.makeLogger()).run()
        if outcome.exitStatus != .ok {
            throw ExitCode(outcome.exitStatus.rawValue)
        }
    }
}
