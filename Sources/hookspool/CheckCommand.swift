import ArgumentParser
import HookSpool
import WebhookSignature

/// `hookspool check`: validate the config and show what it does.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config; print each endpoint and what it subscribes to."
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: "Also show which endpoints would receive an event of this type.")
    var type: String?

    func run() async throws {
        let config = try configOptions.load()
        print("config \(config.file): ok")
        print("spool:   \(config.spoolDirectory)")
        print("reports: \(config.reportDirectory)")
        let d = config.delivery
        print("delivery: concurrency \(d.concurrency), timeout \(d.timeout), max_attempts \(d.maxAttempts), backoff \(d.backoff.initial)…\(d.backoff.max)")
        for endpoint in config.endpoints {
            print("")
            print("\(endpoint.name)\(endpoint.enabled ? "" : " (disabled)")")
            print("  url:        \(endpoint.url.redacted)")
            print("  signature:  \(endpoint.scheme.rawValue), \(endpoint.secretCount) secret\(endpoint.secretCount == 1 ? "" : "s")")
            print("  events:     \(endpoint.events.map(\.pattern).joined(separator: ", "))")
            print("  limits:     concurrency \(endpoint.concurrency.map(String.init) ?? "shared"), timeout \(endpoint.timeout), max_attempts \(endpoint.maxAttempts)")
            if !endpoint.headers.isEmpty {
                print("  headers:    \(endpoint.headers.map(\.name).joined(separator: ", "))")
            }
        }
        if let type {
            var router = Router(endpoints: config.endpoints)
            let names = router.route(type).map { config.endpoints[$0].name }
            print("")
            print("\(type) → \(names.isEmpty ? "no endpoint (unrouted)" : names.joined(separator: ", "))")
        }
    }
}
