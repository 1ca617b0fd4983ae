import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// `Retry-After` is a promise: an endpoint is never sent to before the time it asked for.
@Suite("Retry-After")
struct RetryAfterTests {
    /// Answers 429 with `Retry-After: seconds` to the first request, 200 after.
    final class AskOnceToWait: Sendable {
        let seconds: Int
        private let count = Mutex(0)
        init(_ seconds: Int) { self.seconds = seconds }
        func reply(_ request: ReceivedRequest) -> ReceiverReply {
            let n = count.withLock { $0 += 1; return $0 }
            return n == 1 ? ReceiverReply(status: 429, headers: [("Retry-After", "\(seconds)")]) : .ok
        }
    }

    @Test("a wait within the backoff's cap is waited out in the run, never cut short")
    func waitsWithinTheRun() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#])
        let endpoint = AskOnceToWait(1)
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), backoff: "{initial: 10ms, max: 5s}"))
            #expect(outcome.exitStatus == .ok)
            let times = receiver.requests.map(\.receivedAt)
            #expect(times.count == 2)
            if times.count == 2 { #expect(times[0].duration(to: times[1]) >= .seconds(1)) }
        }
    }

    @Test("deliveries already queued for the endpoint's slots wait too: none is sent before the time it asked for")
    func queuedDeliveriesWait() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", (1...4).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let endpoint = AskOnceToWait(2)
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let config = testConfig(endpoints: testEndpoint(port: receiver.port, more: "concurrency: 1"), backoff: "{initial: 10ms, max: 5s}")
            let outcome = try await ws.run(config)
            #expect(outcome.exitStatus == .ok)
            let times = receiver.requests.map(\.receivedAt)
            #expect(times.count == 5)
            for later in times.dropFirst() {
                #expect(times[0].duration(to: later) >= .seconds(2), "sent during the endpoint's Retry-After")
            }
        }
    }

    @Test("a wait that ends after retry_for runs out fails the delivery for good at once, and says why")
    func waitPastRetryFor() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#])
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 503, headers: [("Retry-After", "7200")]) }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 5, retryFor: "1h"))
            #expect(outcome.exitStatus == .failures)
            #expect(receiver.requests.count == 1)
            #expect(outcome.report.failures.first?.lastError == "retry_after_past_retry_for")
            #expect(outcome.report.failures.first?.lastStatus == 503)
        }
        #expect(ws.files("failed") == ["a.failures.ndjson", "a.ndjson"])
    }

    @Test("a wait longer than the run waits defers the delivery, due then; no run sends to the endpoint sooner, not even new files")
    func defersALongerWait() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#])
        let endpoint = AskOnceToWait(3)
        let asked = Date()
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            // backoff.max 300ms: before, the 3 s wait was cut to 0.3 s and the endpoint hit again at once.
            let config = testConfig(
                endpoints: testEndpoint(port: receiver.port), maxAttempts: 5, backoff: "{initial: 10ms, max: 300ms}", retryFor: "1h",
                retrySchedule: "[1s]"
            )
            let first = try await ws.run(config)
            #expect(first.exitStatus == .tempFail)
            #expect(receiver.requests.count == 1)
            #expect(ws.files("deferred") == ["a.ndjson"])
            #expect(first.report.totals.deferred == 1 && first.report.totals.attempts == 1)
            #expect(first.report.endpoints.first?.statusCodes["429"] == 1)
            // The file is due no sooner than the endpoint asked.
            let journal = try FileManager.default.attributesOfItem(atPath: ws.spool + "/deferred/.a.ndjson.journal")
            let due = try #require(journal[.modificationDate] as? Date)
            #expect(due.timeIntervalSince(asked) >= 3)

            // A new file for the same endpoint while the wait lasts: held too, across runs.
            try ws.drop("b.ndjson", [#"{"id":"evt_2","type":"t"}"#])
            let second = try await ws.run(config)
            #expect(receiver.requests.count == 1, "sent during the endpoint's Retry-After")
            #expect(second.exitStatus == .tempFail)
            #expect(second.report.totals.deferred == 1 && second.report.totals.attempts == 0)

            // Runs every 200 ms, as a timer would, until both are delivered (or 20 s pass).
            let deadline = ContinuousClock.now + .seconds(20)
            while receiver.requests.count < 3, ContinuousClock.now < deadline {
                _ = try await ws.run(config)
                try await Task.sleep(for: .milliseconds(200))
            }
            let requests = receiver.requests
            #expect(requests.count == 3)
            for later in requests.dropFirst() {
                #expect(requests[0].receivedAt.duration(to: later.receivedAt) >= .seconds(3), "sent before the Retry-After was over")
            }
        }
        #expect(ws.files("done") == ["a.ndjson", "b.ndjson"])
    }
}
