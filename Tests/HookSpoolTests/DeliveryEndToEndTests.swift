import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
import WebhookSignature
@testable import HookSpool

/// Whole runs against real HTTP servers on 127.0.0.1 and real files in a temporary spool.
@Suite("Delivery end to end")
struct DeliveryEndToEndTests {
    static let standardSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let plainSecret = "s3cret-for-hmac"

    @Test("every pair is delivered once, signed, and the file moves to done/")
    func deliversEveryPairOnce() async throws {
        let ws = try TestWorkspace()
        var lines: [String] = []
        for n in 1...60 {
            let type = ["order.created", "order.paid", "user.signup"][n % 3]
            lines.append(#"{"id":"evt_\#(n)","type":"\#(type)","data":{"n":\#(n)}}"#)
        }
        try ws.drop("batch-1.ndjson", lines)
        let standard = try WebhookVerifier(scheme: .standard, secrets: [Self.standardSecret])
        let hmac = try WebhookVerifier(scheme: .hmacSHA256, secrets: [Self.plainSecret])

        let outcome = try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = testConfig(endpoints: [
                testEndpoint(name: "orders", port: receiver.port, path: "/orders", events: #"["order.*"]"#),
                testEndpoint(name: "all", port: receiver.port, path: "/all", events: #"["*"]"#, secret: Self.plainSecret, signature: "hmac-sha256"),
            ].joined(separator: "\n"))
            let outcome = try await ws.run(config)
            let requests = receiver.requests
            #expect(requests.count == 40 + 60)
            var seen = Set<String>()
            for request in requests {
                let verifier = request.path == "/orders" ? standard : hmac
                #expect(throws: Never.self) { try verifier.verify(headers: request.headers, body: request.body) }
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("User-Agent")?.hasPrefix("hookspool/") == true)
                let id = request.header("webhook-id") ?? request.header("X-Webhook-Id") ?? "?"
                #expect(seen.insert("\(request.path) \(id)").inserted, "delivered twice: \(request.path) \(id)")
            }
            return outcome
        }
        #expect(outcome.exitStatus == .ok)
        #expect(outcome.report.totals.events == 60)
        #expect(outcome.report.totals.deliveries == 100)
        #expect(outcome.report.totals.delivered == 100)
        #expect(outcome.report.totals.attempts == 100)
        #expect(ws.files("done") == ["batch-1.ndjson"])
        #expect(ws.files("incoming").isEmpty && ws.files("processing").isEmpty && ws.files("failed").isEmpty)
    }

    @Test("the body is the line's object, with id, timestamp and data added when missing")
    func bodyCompletesMissingFields() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"  {"type":"t.one","extra":[1,2]}  "#, #"{"id":"x1","type":"t.two","timestamp":"2026-01-01T00:00:00Z","data":null}"#])
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            _ = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            let bodies = receiver.requests.map(\.text).sorted()
            #expect(bodies.count == 2)
            let first = try #require(bodies.first { $0.contains("t.one") })
            let object = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])
            #expect((object["id"] as? String)?.hasPrefix("evt_") == true)
            #expect(object["timestamp"] is String)
            #expect((object["data"] as? [String: Any])?.isEmpty == true)
            #expect((object["extra"] as? [Int]) == [1, 2])
            // Complete objects travel byte for byte.
            #expect(bodies.contains(#"{"id":"x1","type":"t.two","timestamp":"2026-01-01T00:00:00Z","data":null}"#))
        }
    }

    @Test("503 twice then 200: delivered on attempt 3 with the same id and a fresh signature each time")
    func retriesServerErrors() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_retry","type":"order.created","data":{}}"#])
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [Self.standardSecret])
        let count = Mutex(0)
        try await LoopbackReceiver.run(handler: { _ in
            let n = count.withLock { $0 += 1; return $0 }
            return n <= 2 ? ReceiverReply(status: 503, body: "busy") : .ok
        }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 5))
            let requests = receiver.requests
            #expect(requests.count == 3)
            #expect(Set(requests.map { $0.header("webhook-id") }) == ["evt_retry"])
            for request in requests {
                #expect(throws: Never.self) { try verifier.verify(headers: request.headers, body: request.body) }
            }
            #expect(outcome.exitStatus == .ok)
            #expect(outcome.report.totals.delivered == 1)
            #expect(outcome.report.totals.attempts == 3)
            #expect(outcome.report.totals.retries == 2)
            #expect(outcome.report.endpoints[0].statusCodes == ["503": 2, "200": 1])
        }
    }

    @Test("429 with Retry-After: 1 waits at least a second before the next attempt")
    func honoursRetryAfter() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        let count = Mutex(0)
        try await LoopbackReceiver.run(handler: { _ in
            let n = count.withLock { $0 += 1; return $0 }
            return n == 1 ? ReceiverReply(status: 429, headers: [("Retry-After", "1")]) : .ok
        }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), backoff: "{initial: 10ms, max: 5s}"))
            let requests = receiver.requests
            #expect(requests.count == 2)
            if requests.count == 2 {
                #expect(requests[0].receivedAt.duration(to: requests[1].receivedAt) >= .seconds(1))
            }
            #expect(outcome.report.totals.delivered == 1)
        }
    }

    @Test("a receiver that never answers: the attempt ends at its timeout")
    func hangingEndpointTimesOut() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        let listener = try SilentListener()
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: listener.port), timeout: "300ms", maxAttempts: 1))
        let elapsed = start.duration(to: clock.now)
        #expect(elapsed >= .milliseconds(300))
        // The listener never answers: without the deadline this run would not end at all. The bounds
        // are loose because the whole suite shares two cores with Chromium and many child processes.
        #expect(elapsed < .seconds(60))
        let latency = try #require(outcome.report.endpoints[0].latencyMs.max)
        #expect(latency >= 300 && latency < 20_000, "the attempt ended at \(latency) ms, not at its 300 ms timeout")
        #expect(outcome.exitStatus == .failures)
        let failure = try #require(outcome.report.failures.first)
        #expect(failure.lastStatus == nil)
        #expect(failure.lastError == "timeout")
        #expect(outcome.report.endpoints[0].statusCodes == ["timeout": 1])
        #expect(ws.files("failed") == ["a.failures.ndjson", "a.ndjson"])
    }

    @Test("a slow body counts against the timeout too (connect to last byte)")
    func slowBodyTimesOut() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 503, body: "busy, retry later", bodyDelay: .seconds(8)) }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), timeout: "300ms", maxAttempts: 1))
            #expect(outcome.report.failures.first?.lastError == "timeout")
            // The head and the first byte come at once, the rest after 8 s: the deadline must cut the body short.
            // (A 2xx head whose body is cut short counts as delivered: the receiver has acknowledged.)
            // (loose bound: the suite shares two cores with Chromium and many child processes).
            let latency = try #require(outcome.report.endpoints[0].latencyMs.max)
            #expect(latency >= 300 && latency < 7_900, "the attempt ended at \(latency) ms, not at its 300 ms timeout")
        }
    }

    @Test("connection refused: failed after max_attempts")
    func connectionRefused() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let port = refusing.port
        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: port), maxAttempts: 3))
        #expect(outcome.exitStatus == .failures)
        #expect(outcome.report.totals.attempts == 3)
        #expect(outcome.report.endpoints[0].statusCodes == ["connect_error": 3])
        let failure = try #require(outcome.report.failures.first)
        #expect(failure.attempts == 3)
        #expect(failure.lastError == "connect_error")
        #expect(failure.lastStatus == nil)
    }

    @Test("4xx answers are permanent: one attempt", arguments: [400, 410])
    func permanentStatus(status: Int) async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_p","type":"order.created"}"#])
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: status, body: #"{"error":"<b>no</b>"}"#) }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 5))
            #expect(receiver.requests.count == 1)
            #expect(outcome.exitStatus == .failures)
            let failure = try #require(outcome.report.failures.first)
            #expect(failure.attempts == 1)
            #expect(failure.lastStatus == status)
            #expect(failure.eventID == "evt_p")
            #expect(failure.responseExcerpt == #"{"error":"<b>no</b>"}"#)
            let html = try String(contentsOfFile: try #require(outcome.reportFiles?.html), encoding: .utf8)
            #expect(html.contains("&lt;b&gt;no&lt;/b&gt;") && !html.contains("<b>no</b>"))
        }
    }

    @Test("a redirect is not followed")
    func redirectNotFollowed() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        try await LoopbackReceiver.run(handler: { request in
            request.path == "/hook" ? ReceiverReply(status: 302, headers: [("Location", "/elsewhere")]) : .ok
        }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(receiver.requests.map(\.path) == ["/hook"])
            #expect(outcome.report.failures.first?.lastStatus == 302)
            #expect(outcome.report.failures.first?.attempts == 1)
        }
    }

    @Test("invalid lines: valid events are delivered, the file goes to failed/ with a sidecar naming each bad line")
    func invalidLines() async throws {
        let ws = try TestWorkspace()
        try ws.drop("mixed.ndjson", [
            #"{"type":"a.b","id":"ok-1"}"#,
            "not json",
            "",
            #"{"id":"no-type"}"#,
            #"{"type":"a.b","id":"ok-2"}"#,
            #"["array"]"#,
            #"{"type":"a.b","id":42}"#,
        ])
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(Set(receiver.requests.compactMap { $0.header("webhook-id") }) == ["ok-1", "ok-2"])
            #expect(outcome.exitStatus == .failures)
            #expect(outcome.report.totals.invalidLines == 4)
            #expect(outcome.report.totals.events == 2)
            #expect(ws.files("failed") == ["mixed.failures.ndjson", "mixed.ndjson"])
            let sidecar = try ws.read("spool/failed/mixed.failures.ndjson").split(separator: "\n")
            let rows = try sidecar.map { try JSONDecoder().decode(RunReport.FailureRow.self, from: Data($0.utf8)) }
            #expect(rows.map(\.line) == [2, 4, 6, 7])
            #expect(rows.allSatisfy { $0.endpoint == nil && $0.eventID == nil && $0.lastError?.isEmpty == false })
            #expect(sidecar.allSatisfy { $0.contains(#""endpoint":null"#) && $0.contains(#""event_id":null"#) })
            #expect(outcome.report.files.first?.movedTo == "failed/mixed.ndjson")
        }
    }

    @Test("a line over limits.max_event_bytes is refused without stopping the file")
    func oversizedLine() async throws {
        let ws = try TestWorkspace()
        let big = #"{"type":"a.b","data":""# + String(repeating: "x", count: 5000) + #""}"#
        try ws.drop("big.ndjson", [#"{"type":"a.b"}"#, big, #"{"type":"a.b"}"#], terminated: false)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), extra: "limits: {max_event_bytes: 1KiB}"))
            #expect(receiver.requests.count == 2)
            #expect(outcome.report.failures.map(\.line) == [2])
            #expect(outcome.report.failures.first?.lastError?.contains("max_event_bytes") == true)
        }
    }

    @Test("an empty spool: exit 0 and a report with zero totals")
    func emptySpool() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: 9)))
        #expect(outcome.exitStatus == .ok)
        #expect(outcome.report.totals == RunReport.Totals())
        let json = try ws.read("reports/latest.json")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["schema_version"] as? Int == 1)
        #expect((object["totals"] as? [String: Any])?["deliveries"] as? Int == 0)
        #expect(FileManager.default.fileExists(atPath: ws.reports + "/latest.html"))
        #expect(FileManager.default.fileExists(atPath: ws.reports + "/index.html"))
    }

    @Test("unrouted events and disabled endpoints: counted, nothing sent, file done")
    func unroutedAndDisabled() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#, #"{"type":"nobody.cares"}"#])
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = testConfig(endpoints: [
                testEndpoint(name: "live", port: receiver.port, path: "/live", events: #"["order.*"]"#),
                testEndpoint(name: "off", port: receiver.port, path: "/off", events: #"["*"]"#, more: "enabled: false"),
            ].joined(separator: "\n"))
            let outcome = try await ws.run(config)
            #expect(receiver.requests.map(\.path) == ["/live"])
            #expect(outcome.report.totals.unrouted == 1)
            #expect(outcome.exitStatus == .ok)
            #expect(ws.files("done") == ["a.ndjson"])
        }
    }

    @Test("per-endpoint concurrency caps requests in flight")
    func perEndpointConcurrency() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", (1...12).map { #"{"type":"t","id":"e\#($0)"}"# })
        let inFlight = Mutex((now: 0, peak: 0))
        try await LoopbackReceiver.run(handler: { _ in
            inFlight.withLock { $0.now += 1; $0.peak = max($0.peak, $0.now) }
            // Hold each request until a second one is in flight too (or 2 s pass), so the peak
            // shows the limit rather than how the scheduler happened to interleave.
            let deadline = ContinuousClock.now.advanced(by: .seconds(2))
            while inFlight.withLock({ $0.now < 2 }) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(2))
            }
            try? await Task.sleep(for: .milliseconds(10))
            inFlight.withLock { $0.now -= 1 }
            return .ok
        }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port, more: "concurrency: 2"), concurrency: 16))
            #expect(outcome.report.totals.delivered == 12)
            let peak = inFlight.withLock { $0.peak }
            #expect(peak <= 2)
            #expect(peak == 2)
        }
    }

    @Test("--dry-run routes and signs but sends nothing and moves nothing")
    func dryRun() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#, "bad"])
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)), dryRun: true)
            #expect(receiver.requests.isEmpty)
            #expect(ws.files("incoming") == ["a.ndjson"])
            #expect(ws.files("failed").isEmpty && ws.files("done").isEmpty)
            #expect(outcome.report.dryRun)
            #expect(outcome.report.totals.deliveries == 1)
            #expect(outcome.report.totals.attempts == 0)
            #expect(outcome.report.totals.invalidLines == 1)
            #expect(!FileManager.default.fileExists(atPath: ws.reports + "/latest.json"))
        }
    }

    @Test("a host name that does not resolve fails only that endpoint's deliveries")
    func unresolvableHost() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"type":"order.created"}"#])
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = testConfig(endpoints: [
                testEndpoint(name: "good", port: receiver.port),
                """
                  - name: nowhere
                    url: http://hookspool-test.invalid/hook
                    events: ["*"]
                    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
                    allow_http: true
                """,
            ].joined(separator: "\n"))
            let outcome = try await ws.run(config)
            #expect(receiver.requests.count == 1)
            #expect(outcome.exitStatus == .failures)
            #expect(outcome.report.totals.delivered == 1)
            #expect(outcome.report.failures.map(\.endpoint) == ["nowhere"])
            #expect(outcome.report.failures.first?.lastError == "dns_error")
        }
    }

    @Test("a name that resolves only to non-global addresses is refused")
    func resolvesToLoopback() async {
        let resolution = await HostResolver.resolveName("localhost")
        #expect(resolution == .refused(address: "127.0.0.1", category: "loopback") || resolution == .refused(address: "::1", category: "loopback"))
    }
}
