import Foundation
import Testing
@testable import HookSpool

/// Whole runs over real spool files, with a scripted transport and a test clock: no sockets, no real waiting.
@Suite("Batch run (scripted)")
struct BatchRunTests {
    static func run(_ ws: borrowing TestWorkspace, _ yaml: String, clock: TestClock, transport: ScriptedTransport) async throws -> BatchRun.Outcome {
        let config = try ws.config(yaml)
        let run = BatchRun(config: config, logger: .quiet, clock: clock) { _, _ in transport }
        return await clock.run { await run.run() }
    }

    @Test("a file whose deliveries are deferred is due by the retry schedule, on the run's clock; a run then delivers what is left")
    func deferralSchedule() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#, #"{"id":"evt_2","type":"t"}"#])
        let clock = TestClock()
        let transport = ScriptedTransport([.status(200), .status(503), .status(503)], clock: clock)
        let yaml = testConfig(endpoints: testEndpoint(port: 9), concurrency: 1, maxAttempts: 2, backoff: "{initial: 1s, max: 10s}", retryFor: "1h", retrySchedule: "[60s]")
        let first = try await Self.run(ws, yaml, clock: clock, transport: transport)
        #expect(first.exitStatus == .tempFail)
        #expect(ws.files("deferred") == ["a.ndjson"])
        let journal = try #require(FileSystem.regularFileInfo("\(ws.spool)/deferred/.a.ndjson.journal"))
        let due = Int64(journal.modified.tv_sec) - Int64(clock.unixTime)
        #expect((54...66).contains(due))
        #expect(first.report.startedAt == RFC3339.format(unixTime: clock.unixOrigin))

        // Not due yet: nothing to do.
        let early = try await Self.run(ws, yaml, clock: clock, transport: transport)
        #expect(early.report.totals.files == 0)
        clock.advance(by: .seconds(70))
        let second = try await Self.run(ws, yaml, clock: clock, transport: transport)
        #expect(second.exitStatus == .ok)
        #expect(second.report.totals.deliveries == 1)
        #expect(ws.files("done") == ["a.ndjson"])
        #expect(transport.calls.count == 4)
        #expect(transport.wasShutDown)
    }

    @Test(
        "once every event is read, each delivery that ends closes its endpoint's idle connections but those a retry still waiting could take",
        .timeLimit(.minutes(1))
    )
    func closesSpareConnections() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#, #"{"id":"evt_2","type":"t"}"#])
        let clock = TestClock()
        // The first attempt fails and waits for its retry (the clock stands still) while the other is answered.
        let transport = ScriptedTransport([.status(500), .held(status: 200)], clock: clock)
        let yaml = testConfig(endpoints: testEndpoint(port: 9), concurrency: 2, maxAttempts: 2, backoff: "{initial: 1s, max: 10s}")
        let run = BatchRun(config: try ws.config(yaml), logger: .quiet, clock: clock) { _, _ in transport }
        let task = Task { await run.run() }
        await transport.untilHeld(1)
        transport.open()
        // Every event read: what the lane no longer needs is closed, but for a connection the retry may take.
        await transport.untilSpareCalls(1)
        let outcome = await clock.run { await task.value }
        #expect(outcome.exitStatus == .ok)
        #expect(transport.calls.count == 3)
        // The run's own call, once every event is read, counts the lane's deliveries when it makes
        // it and may land after the deliveries' own calls: the order of the calls is not checked.
        let pending = transport.spareCalls
        #expect(pending.first.map { $0 >= 1 } == true, "\(pending)")
        #expect(pending.contains(0), "\(pending)")
    }

    @Test("a dry run signs and counts with the scripted transport never called")
    func dryRun() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#, "not json"])
        let clock = TestClock()
        let transport = ScriptedTransport(clock: clock)
        let config = try ws.config(testConfig(endpoints: testEndpoint(port: 9)))
        let outcome = await BatchRun(config: config, dryRun: true, logger: .quiet, clock: clock) { _, _ in transport }.run()
        #expect(outcome.report.totals.deliveries == 1)
        #expect(outcome.report.totals.invalidLines == 1)
        #expect(transport.calls.isEmpty)
        #expect(ws.files("incoming") == ["a.ndjson"])
    }
}
