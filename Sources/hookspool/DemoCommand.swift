import ArgumentParser
import Foundation
import HookSpool
import HookSpoolReceiver
import Synchronization
import WebhookSignature

/// `hookspool demo`: loopback receivers, sample events, one real run, and the report's path.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start loopback receivers, spool sample events, run one real batch and show the report.",
        discussion: "Exits 0 when the run went as designed; its failures (a 410 endpoint, two invalid lines) are staged."
    )

    @Option(name: .long, help: "The demo's folder; its spool is emptied first.")
    var dir: String = "hookspool-demo"

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let workspace = DemoWorkspace(directory: dir)
        let secrets = (orders: WebhookSecret.generate(), billing: WebhookSecret.generate(), crm: WebhookSecret.generate(), audit: WebhookSecret.generate())
        let verifiers = try (
            orders: WebhookVerifier(scheme: .standard, secrets: [secrets.orders]),
            billing: WebhookVerifier(scheme: .hmacSHA256, secrets: [secrets.billing]),
            crm: WebhookVerifier(scheme: .github, secrets: [secrets.crm]),
            audit: WebhookVerifier(scheme: .stripe, secrets: [secrets.audit])
        )
        let tally = DemoTally()

        try await LoopbackReceiver.run(handler: { request in
            let verifier = request.path == "/audit" ? verifiers.audit : verifiers.orders
            guard tally.check(verifier, request) else { return ReceiverReply(status: 401, body: "bad signature") }
            return .ok
        }) { healthy in
            try await LoopbackReceiver.run(handler: { request in
                guard tally.check(verifiers.billing, request) else { return ReceiverReply(status: 401, body: "bad signature") }
                let id = request.header("X-Webhook-Id") ?? ""
                let attempt = tally.attempt(id)
                let digest = id.utf8.reduce(0) { ($0 &* 31 &+ Int($1)) & 0xFFFF }
                if digest % 4 == 0 && attempt <= 2 {
                    return ReceiverReply(status: 503, body: #"{"error":"upstream busy, try again"}"#)
                }
                if digest % 10 == 1 && attempt == 1 {
                    return ReceiverReply(status: 429, headers: [("Retry-After", "1")], body: #"{"error":"rate limited"}"#)
                }
                return .ok
            }) { flaky in
                try await LoopbackReceiver.run(handler: { request in
                    _ = tally.check(verifiers.crm, request)
                    return ReceiverReply(status: 410, body: #"{"error":"this webhook endpoint was deleted"}"#)
                }) { gone in
                    try await demo(workspace: workspace, tally: tally, secrets: secrets, ports: (healthy.port, flaky.port, gone.port))
                }
            }
        }
    }

    private func demo(
        workspace: DemoWorkspace,
        tally: DemoTally,
        secrets: (orders: String, billing: String, crm: String, audit: String),
        ports: (healthy: Int, flaky: Int, gone: Int)
    ) async throws {
        let sample = try workspace.prepare(
            receivers: .init(
                healthyPort: ports.healthy, flakyPort: ports.flaky, gonePort: ports.gone,
                ordersSecret: secrets.orders, billingSecret: secrets.billing, crmSecret: secrets.crm, auditSecret: secrets.audit
            )
        )
        print("hookspool demo")
        print("  workspace: \(workspace.directory) (config.yaml, spool/, reports/)")
        print("  receivers: healthy 127.0.0.1:\(ports.healthy), flaky 127.0.0.1:\(ports.flaky) (503/429 first), gone 127.0.0.1:\(ports.gone) (410)")
        print("  spooled:   \(sample.files.count) files, \(sample.events) events, \(sample.invalidLines) invalid lines on purpose")
        print("")
        fflush(nil)  // the run's log lines go to stderr; keep the two in order

        let config = try loadConfig(workspace.configPath)
        let outcome = await BatchRun(config: config, logger: logging.makeLogger()).run()
        let t = outcome.report.totals

        print("")
        print("Summary")
        print("  deliveries: \(t.deliveries) (\(t.events) events × subscribed endpoints; \(t.unrouted) unrouted)")
        print("  delivered:  \(t.delivered), after \(t.retries) retries (\(t.attempts) attempts in all)")
        print("  failed:     \(t.failed) for good, \(t.invalidLines) invalid lines")
        print("  deferred:   \(t.deferred), waiting in deferred/ for a later run")
        for endpoint in outcome.report.endpoints {
            let codes = endpoint.statusCodes.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
            print("    \(endpoint.name.padding(toLength: 8, withPad: " ", startingAt: 0)) delivered \(endpoint.delivered), failed \(endpoint.failed), attempts \(endpoint.attempts) [\(codes)], p50 \(endpoint.latencyMs.p50.map { String(format: "%.1f ms", $0) } ?? "-")")
        }
        print("  signatures checked by the receivers: \(tally.verified) valid, \(tally.rejected) rejected")
        print("  duration:   \(outcome.report.durationMs) ms")
        if let files = outcome.reportFiles {
            print("  report:     \(files.html)")
            print("               \(files.json)")
        }

        let expectedDelivered = (sample.deliveries["orders"] ?? 0) + (sample.deliveries["billing"] ?? 0) + (sample.deliveries["audit"] ?? 0)
        var surprises: [String] = []
        if t.delivered != expectedDelivered { surprises.append("delivered \(t.delivered), expected \(expectedDelivered)") }
        let crm = outcome.report.endpoints.first { $0.name == "crm" }
        let crmEnded = (crm?.failed ?? 0) + (crm?.deferred ?? 0)
        if t.failed != crm?.failed ?? 0 || crm?.failed ?? 0 < 1 || crmEnded != sample.deliveries["crm"] ?? 0 {
            surprises.append("crm (the 410 endpoint) failed \(crm?.failed ?? 0) and deferred \(crm?.deferred ?? 0) of \(sample.deliveries["crm"] ?? 0); other endpoints failed \(t.failed - (crm?.failed ?? 0))")
        }
        if crm?.disabled == nil { surprises.append("crm answered 410 but was not disabled") }
        if t.invalidLines != sample.invalidLines { surprises.append("invalid lines \(t.invalidLines), expected \(sample.invalidLines)") }
        if tally.rejected > 0 { surprises.append("\(tally.rejected) signatures did not verify") }
        if outcome.exitStatus == ExitStatus.ioError { surprises.append("the spool or report folder was unusable") }
        if let crm, crm.disabled != nil {
            print("  crm answered 410 Gone and is now disabled: \(crm.deferred) of its deliveries wait in deferred/")
            print("  until `hookspool endpoints enable crm --config \(workspace.configPath)`.")
        }
        if surprises.isEmpty {
            print("\nThe demo ran as designed: `hookspool run` would exit 1 here, for the staged 410 and invalid lines.")
        } else {
            printError("hookspool demo: the run did not go as designed: " + surprises.joined(separator: "; "))
            throw ExitCode(1)
        }
    }
}

/// Counts the demo receivers' signature checks and attempts per event.
final class DemoTally: Sendable {
    private struct State {
        var verified = 0
        var rejected = 0
        var attempts: [String: Int] = [:]
    }

    private let state = Mutex(State())

    var verified: Int { state.withLock { $0.verified } }
    var rejected: Int { state.withLock { $0.rejected } }

    func check(_ verifier: WebhookVerifier, _ request: ReceivedRequest) -> Bool {
        let valid = (try? verifier.verify(headers: request.headers, body: request.body)) != nil
        state.withLock { valid ? ($0.verified += 1) : ($0.rejected += 1) }
        return valid
    }

    /// The attempt number of this delivery of event `id`, counting from 1.
    func attempt(_ id: String) -> Int {
        state.withLock { state in
            state.attempts[id, default: 0] += 1
            return state.attempts[id] ?? 1
        }
    }
}
