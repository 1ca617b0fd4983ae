import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// Endpoint health across runs (410 disables, `endpoints enable` re-enables) and `replay`.
@Suite("Endpoint health and replay")
struct EndpointHealthTests {
    @Test("410 disables an endpoint; its deliveries wait unattempted; enable brings it back; replay sends only the failed pair")
    func goneThenEnabledThenReplayed() async throws {
        let ws = try TestWorkspace()
        try ws.drop("c.ndjson", (1...5).map { #"{"id":"c-\#($0)","type":"customer.updated"}"# })
        let gone = Mutex(true)
        try await LoopbackReceiver.run(handler: { request in
            request.path == "/crm" && gone.withLock({ $0 }) ? ReceiverReply(status: 410, body: "deleted") : .ok
        }) { receiver in
            let yaml = testConfig(
                endpoints: [
                    testEndpoint(name: "audit", port: receiver.port, path: "/audit"),
                    testEndpoint(name: "crm", port: receiver.port, path: "/crm", more: "concurrency: 1"),
                ].joined(separator: "\n"),
                retryFor: "1h"
            )
            try ws.writeConfig(yaml)
            func crmRequests() -> [ReceivedRequest] { receiver.requests.filter { $0.path == "/crm" } }
            func makeDue() throws {
                try FileSystem.setModificationTime(ws.spool + "/deferred/.c.ndjson.journal", seconds: 0)
            }

            // Run 1: the first crm delivery meets 410; the endpoint is disabled for the rest.
            let first = try await ws.run(yaml)
            #expect(crmRequests().count == 1)
            #expect(first.exitStatus == .failures)
            let crm = try #require(first.report.endpoints.first { $0.name == "crm" })
            #expect(crm.failed == 1 && crm.deferred == 4)
            #expect(crm.disabled == "answered 410 Gone")
            #expect(ws.files("deferred").contains("c.ndjson"))

            let listed = try await HookSpoolBinary.run(["endpoints"], in: ws.root)
            #expect(listed.status == 0)
            #expect(listed.output.contains("disabled") && listed.output.contains("410"), "\(listed.output)")

            // Run 2: still disabled, nothing is attempted.
            try makeDue()
            let second = try await ws.run(yaml)
            #expect(crmRequests().count == 1)
            #expect(second.report.endpoints.first { $0.name == "crm" }?.attempts == 0)
            #expect(second.exitStatus == .tempFail)

            // Enabled again (and the receiver is back): the waiting deliveries go out.
            let enabled = try await HookSpoolBinary.run(["endpoints", "enable", "crm"], in: ws.root)
            #expect(enabled.status == 0, "\(enabled.output)")
            gone.withLock { $0 = false }
            let third = try await ws.run(yaml)
            #expect(crmRequests().count == 5)
            #expect(third.exitStatus == .ok)
            #expect(ws.files("failed") == ["c.failures.ndjson", "c.ndjson"], "the 410 delivery failed for good")

            // Replay: only the failed pair is sent again.
            let replayed = try await HookSpoolBinary.run(["replay", "c.ndjson"], in: ws.root)
            #expect(replayed.status == 0, "\(replayed.output)")
            #expect(crmRequests().count == 6)
            #expect(crmRequests().last?.header("webhook-id") == "c-1")
            #expect(receiver.requests.filter { $0.path == "/audit" }.count == 5, "audit got each event once, never again")
            #expect(ws.files("done") == ["c.ndjson"])
            #expect(ws.files("failed").isEmpty)
        }
    }

    @Test("an endpoint healthy in the last run starts with that run's window, not with a slow start")
    func windowResumed() async throws {
        let ws = try TestWorkspace()
        let gauge = InFlightGauge(holding: .milliseconds(150))
        try await LoopbackReceiver.run(handler: gauge.handle) { receiver in
            let yaml = testConfig(endpoints: testEndpoint(port: receiver.port, more: "concurrency: 64"), concurrency: 64)
            try ws.writeConfig(yaml)
            // Run 1 grows the window from 5 to 64 (5, 10, 20, 40, 64 a round trip) and records it.
            try ws.drop("a.ndjson", (1...160).map { #"{"id":"a-\#($0)","type":"t"}"# })
            #expect(try await ws.run(yaml).exitStatus == .ok)
            let health = try HealthStore(spoolDirectory: ws.spool).load()
            #expect(health["hook"]?.window == 64)

            // Run 2: 64 deliveries, all sent at once. Slow start would send 5 before the first answer.
            gauge.resetPeak()
            try ws.drop("b.ndjson", (1...64).map { #"{"id":"b-\#($0)","type":"t"}"# })
            #expect(try await ws.run(yaml).exitStatus == .ok)
            let peak = gauge.peakBeforeFirstAnswer
            #expect(peak > 45, "peak in flight before the first answer \(peak)")
        }
    }

    @Test("replay refuses what it cannot do")
    func replayRefusals() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 9)))
        try FileManager.default.createDirectory(atPath: ws.spool + "/failed", withIntermediateDirectories: true)
        let missing = try await HookSpoolBinary.run(["replay", "nope.ndjson"], in: ws.root)
        #expect(missing.status == 65)
        #expect(missing.output.contains("no file nope.ndjson"))
        try Data(#"{"type":"x"}"#.utf8).write(to: URL(fileURLWithPath: ws.spool + "/failed/bad.ndjson"))
        try Data(#"{"file":"bad.ndjson","line":1,"event_id":null,"event_type":null,"endpoint":null,"attempts":0,"last_status":null,"last_error":"not JSON","response_excerpt":null}"#.utf8)
            .write(to: URL(fileURLWithPath: ws.spool + "/failed/bad.failures.ndjson"))
        let onlyInvalid = try await HookSpoolBinary.run(["replay", "bad.ndjson"], in: ws.root)
        #expect(onlyInvalid.status == 65)
        #expect(onlyInvalid.output.contains("invalid lines"))
    }

    @Test("a failing streak longer than disable_after disables; a success heals")
    func streak() {
        var health = EndpointHealth()
        let start = Date(timeIntervalSince1970: 1_700_000_000)
        let failing = EndpointHealth.RunTally(delivered: 0, unsuccessful: 3, gone: false)
        health.record(failing, runStarted: start, now: start, disableAfter: .seconds(3600))
        #expect(health.state == "failing" && health.consecutiveFailures == 3)
        health.record(failing, runStarted: start + 1800, now: start + 1800, disableAfter: .seconds(3600))
        #expect(health.disabled == nil)
        health.record(failing, runStarted: start + 3600, now: start + 3600, disableAfter: .seconds(3600))
        #expect(health.disabled?.reason.contains("disable_after 1h") == true)

        var healing = EndpointHealth(failingSince: "2023-11-14T22:13:20Z", consecutiveFailures: 9)
        healing.record(.init(delivered: 1, unsuccessful: 2, gone: false), runStarted: start, now: start, disableAfter: .seconds(3600))
        #expect(healing.state == "healthy" && healing.consecutiveFailures == 0 && healing.lastSuccess != nil)
    }
}
