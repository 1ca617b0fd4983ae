import Foundation
import HookSpoolReceiver
import Testing
import WebhookSignature
@testable import HookSpool

/// `hookspool ping`: one signed `webhook.test` event, one attempt, exit 0 on 2xx and 1 otherwise.
@Suite("Ping")
struct PingTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("200: exit 0, one signed webhook.test event that verifies, status and latency printed")
    func healthy() async throws {
        let ws = try TestWorkspace()
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [Self.secret])
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, body: "pong") }) { receiver in
            // A long timeout: a starved machine must not turn a healthy answer into a timeout.
            try ws.writeConfig(testConfig(endpoints: testEndpoint(name: "orders", port: receiver.port, secret: Self.secret, more: "headers: {X-Tenant: acme}"), timeout: "30s"))
            let result = try await HookSpoolBinary.run(["ping", "orders"], in: ws.root)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("status:   200"), "\(result.stdout)")
            #expect(result.stdout.contains("healthy:  yes"))
            #expect(result.stdout.contains("response: pong"))
            #expect(result.stdout.contains(" ms"))

            let requests = receiver.requests
            #expect(requests.count == 1)
            let request = try #require(requests.first)
            let verified = try verifier.verify(headers: request.headers, body: request.body)
            #expect(verified.id?.hasPrefix("evt_test_") == true)
            #expect(request.header("X-Tenant") == "acme")
            #expect(request.header("User-Agent")?.hasPrefix("hookspool/") == true)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(body["type"] as? String == "webhook.test")
            #expect(body["id"] as? String == verified.id)
            #expect((body["data"] as? [String: Any])?["message"] as? String == "hookspool ping")
            let timestamp = try #require(body["timestamp"] as? String)
            #expect(RFC3339.isValid(timestamp))
            #expect(result.stdout.contains(verified.id ?? "?"))
        }
    }

    @Test("500: exit 1 with the status, and no retry")
    func unhealthy() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 500, body: "boom\u{1B}[31m") }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(name: "orders", port: receiver.port), timeout: "30s", maxAttempts: 5))
            let result = try await HookSpoolBinary.run(["ping", "orders", "--config", "config.yaml"], in: ws.root)
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("status:   500"), "\(result.stdout)")
            #expect(result.stdout.contains("healthy:  no"))
            #expect(!result.stdout.contains("\u{1B}"), "the receiver's bytes cannot drive the terminal")
            #expect(receiver.requests.count == 1, "a ping is one attempt")
        }
    }

    @Test("an endpoint disabled across runs is pinged anyway, and the output says how to enable it")
    func disabledAcrossRuns() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(name: "orders", port: receiver.port), timeout: "30s"))
            let config = try ws.config(testConfig(endpoints: testEndpoint(name: "orders", port: receiver.port)))
            _ = try HealthStore(spoolDirectory: config.spoolDirectory).update { health in
                health["orders"] = EndpointHealth(disabled: EndpointHealth.Disabled(at: "2026-11-29T05:00:00Z", reason: "answered 410 Gone"))
            }
            let result = try await HookSpoolBinary.run(["ping", "orders"], in: ws.root)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("disabled since 2026-11-29T05:00:00Z (answered 410 Gone)"), "\(result.stdout)")
            #expect(result.stdout.contains("hookspool endpoints enable orders"))
            #expect(receiver.requests.count == 1)
        }
    }

    @Test("no answer: exit 1 naming the failure")
    func noAnswer() async throws {
        let ws = try TestWorkspace()
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        try ws.writeConfig(testConfig(endpoints: testEndpoint(name: "orders", port: closed)))
        let result = try await HookSpoolBinary.run(["ping", "orders"], in: ws.root)
        #expect(result.status == 1)
        #expect(result.stdout.contains("no answer (connect_error)"), "\(result.stdout)")
    }

    @Test("an unknown endpoint is a usage error (64) that lists the names")
    func unknownEndpoint() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: [
            testEndpoint(name: "orders", port: 9),
            testEndpoint(name: "billing", port: 9),
        ].joined(separator: "\n")))
        let result = try await HookSpoolBinary.run(["ping", "nope"], in: ws.root)
        #expect(result.status == 64)
        #expect(result.stderr.contains("no endpoint named 'nope'"), "\(result.stderr)")
        #expect(result.stderr.contains("orders, billing"))
    }

    @Test("the engine: an endpoint switched off in the config is still pinged; a name that does not resolve is a dns_error")
    func engine() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = try ws.config(testConfig(endpoints: testEndpoint(name: "off", port: receiver.port, more: "enabled: false"), timeout: "30s"))
            let result = await Ping(endpoint: config.endpoints[0]).send()
            #expect(result.status == 200)
            #expect(result.healthy)
            #expect(receiver.requests.count == 1)
        }
        let unresolvable = try ws.config(testConfig(endpoints: """
              - name: nowhere
                url: https://no-such-host.invalid/hook
                events: ["*"]
                secret: \(Self.secret)
            """))
        let result = await Ping(endpoint: unresolvable.endpoints[0]).send()
        #expect(result.error == "dns_error")
        #expect(result.status == nil)
        #expect(!result.healthy)
        #expect(result.latency == nil, "nothing was sent")
    }
}
