import ArgumentParser
import HookSpool
import WebhookSignature

/// `hookspool ping ENDPOINT`: one signed `webhook.test` event to one endpoint; status, latency, healthy or not.
struct PingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ping",
        abstract: "Send one signed webhook.test event to an endpoint; print status, latency and whether it is healthy.",
        discussion: """
            The event is {"id": "evt_test_<random>", "type": "webhook.test", "timestamp": now, "data": {"message": \
            "hookspool ping"}}, signed with the endpoint's scheme and secrets and sent with its headers and timeout, \
            once, without retry; its host must pass the same address checks as in a run (allow_private). \
            Exit codes: 0 the endpoint answered 2xx; 1 it answered anything else, or did not answer; \
            64 no endpoint of that name (the names are listed); 78 the config is wrong.
            """
    )

    @Argument(help: "The endpoint's name in the config.")
    var endpoint: String

    @OptionGroup var configOptions: ConfigOptions

    func run() async throws {
        let config = try configOptions.load()
        guard let target = config.endpoints.first(where: { $0.name == endpoint }) else {
            let names = config.endpoints.map(\.name).joined(separator: ", ")
            printError("hookspool: no endpoint named '\(endpoint)' in \(config.file); its endpoints: \(names)")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        print("ping \(target.name): POST \(target.url.redacted) (\(target.scheme.rawValue), \(Ping.eventType))")
        if !target.enabled {
            print("  note:     enabled: false in the config; runs send it nothing, the ping goes anyway")
        }
        if let disabled = (try? HealthStore(spoolDirectory: config.spoolDirectory).load())?[target.name]?.disabled {
            print("  note:     disabled since \(disabled.at) (\(Self.printable(disabled.reason))); the ping goes anyway,")
            print("            and `hookspool endpoints enable \(target.name)` lets runs send to it again")
        }
        let result = await Ping(endpoint: target).send()
        print("  event:    \(result.eventID)")
        if let status = result.status {
            print("  status:   \(status)")
        } else {
            print("  status:   no answer (\(result.error ?? "network_error"))")
        }
        if let detail = result.detail {
            print("  detail:   \(Self.printable(detail))")
        }
        if let latency = result.latency {
            print("  latency:  \(Self.milliseconds(latency)) ms")
        }
        if let excerpt = result.responseExcerpt {
            print("  response: \(Self.printable(String(excerpt.prefix(300))))\(excerpt.count > 300 ? "…" : "")")
        }
        print("  healthy:  \(result.healthy ? "yes (2xx)" : "no")")
        if !result.healthy {
            throw ExitCode(ExitStatus.failures.rawValue)
        }
    }

    /// Milliseconds with one decimal.
    static func milliseconds(_ duration: Duration) -> String {
        let ms = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(Double(Int((ms * 10).rounded())) / 10)
    }

    /// Text from the receiver on one line, with control characters (a terminal's escape sequences included) shown as `\u{…}`.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) {
                    out += "\\u{\(String(scalar.value, radix: 16))}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
