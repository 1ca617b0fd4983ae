import ArgumentParser
import Foundation
import HookSpool

/// `hookspool endpoints`: each endpoint's health across runs.
struct EndpointsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endpoints",
        abstract: "Show each endpoint's health across runs; `enable NAME` re-enables a disabled one.",
        subcommands: [EndpointsListCommand.self, EndpointsEnableCommand.self],
        defaultSubcommand: EndpointsListCommand.self
    )
}

/// `hookspool endpoints [list]`.
struct EndpointsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Show each endpoint's health across runs.")

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config = try configOptions.load()
        let health: [String: EndpointHealth]
        do {
            health = try HealthStore(spoolDirectory: config.spoolDirectory).load()
        } catch {
            printError("hookspool endpoints: \(error)")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        let rows = config.endpoints.map { endpoint -> [String] in
            let h = health[endpoint.name] ?? EndpointHealth()
            let state = endpoint.enabled ? h.state : "off in config"
            return [endpoint.name, state, h.lastSuccess ?? "-", h.failingSince ?? "-", String(h.consecutiveFailures), h.disabled.map { "\($0.reason) (since \($0.at))" } ?? ""]
        }
        let header = ["ENDPOINT", "STATE", "LAST SUCCESS", "FAILING SINCE", "FAILED IN A ROW", "DISABLED"]
        let widths = (0..<header.count).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        for row in [header] + rows {
            print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

/// `hookspool endpoints enable NAME`.
struct EndpointsEnableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enable",
        abstract: "Re-enable a disabled endpoint; deferred files become due at once."
    )

    @Argument(help: "The endpoint's name.")
    var name: String

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config = try configOptions.load()
        guard config.endpoints.contains(where: { $0.name == name }) else {
            printError("hookspool endpoints enable: no endpoint named '\(name)'; the config has \(config.endpoints.map(\.name).joined(separator: ", "))")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        do {
            let spool = Spool(root: config.spoolDirectory)
            try HealthStore(spoolDirectory: config.spoolDirectory).update { health in
                health[name] = EndpointHealth(lastSuccess: health[name]?.lastSuccess)
            }
            let due = try spool.makeDeferredDue()
            print("\(name): enabled; \(due) deferred file\(due == 1 ? "" : "s") due at the next run")
        } catch {
            printError("hookspool endpoints enable: \(error)")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
    }
}
