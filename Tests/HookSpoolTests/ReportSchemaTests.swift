import Foundation
import Testing
@testable import HookSpool

/// Reports from real runs validate against `schemas/report.schema.json` (and `runs.json` against
/// `schemas/runs.schema.json`), checked by Python's `jsonschema`, a real Draft 2020-12 validator.
@Suite("Report JSON schema", .enabled("needs python3 with jsonschema; CI=true requires it") {
    ReportTools.isCI ? true : await ReportTools.jsonSchemaAvailable()
})
struct ReportSchemaTests {
    static var reportSchema: String { ReportTools.packageRoot + "/schemas/report.schema.json" }
    static var runsSchema: String { ReportTools.packageRoot + "/schemas/runs.schema.json" }

    /// Validates the run's JSON, `latest.json` when the run wrote it, and every failures sidecar in the spool.
    static func expectValid(_ outcome: BatchRun.Outcome, in ws: borrowing TestWorkspace, latest: Bool = true) async throws {
        let json = try #require(outcome.reportFiles?.json)
        var documents = [json]
        if latest { documents.append(ws.reports + "/latest.json") }
        let sidecars = ws.files("failed").filter { $0.hasSuffix(".failures.ndjson") }.map { "\(ws.spool)/failed/\($0)" }
        let report = try await ReportTools.validate(schema: reportSchema, documents: documents, failureLines: sidecars)
        #expect(report.status == 0, "\(report.stdout)\(report.stderr)")
        let runs = try await ReportTools.validate(schema: runsSchema, documents: [ws.reports + "/runs.json"])
        #expect(runs.status == 0, "\(runs.stdout)\(runs.stderr)")
    }

    @Test("a clean run's report is valid")
    func cleanRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.clean(ws)
        #expect(outcome.exitStatus == .ok)
        #expect(outcome.report.totals.delivered == 7)
        #expect(outcome.report.totals.unrouted == 1)
        try await Self.expectValid(outcome, in: ws)
    }

    @Test("a run with failed deliveries and invalid lines is valid, sidecars included")
    func failingRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.failing(ws)
        #expect(outcome.exitStatus == .failures)
        let failures = outcome.report.failures
        // The kinds of row the schema tells apart are all here.
        #expect(failures.contains { $0.endpoint == "gone" && $0.lastStatus == 410 && $0.responseExcerpt?.contains("endpoint deleted") == true })
        #expect(failures.contains { $0.endpoint == "busy" && $0.lastStatus == 503 && $0.attempts == 2 })
        // Refused at once, normally; on a starved machine the connect may run into the timeout instead.
        #expect(failures.contains { $0.endpoint == "closed" && $0.lastStatus == nil && ["connect_error", "timeout"].contains($0.lastError) })
        #expect(failures.filter { $0.endpoint == nil }.map(\.line) == [3, 5])
        #expect(ws.files("failed").contains("mixed.failures.ndjson"))
        try await Self.expectValid(outcome, in: ws)
    }

    @Test("a dry run's report is valid")
    func dryRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.dryRun(ws)
        #expect(outcome.report.dryRun)
        #expect(outcome.report.files.first?.movedTo == nil)
        try await Self.expectValid(outcome, in: ws, latest: false)
    }

    @Test("a run that defers deliveries to a later run, and holds one behind them for order, is valid")
    func deferredRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.deferred(ws)
        #expect(outcome.report.totals.deferred == 2)
        #expect(outcome.report.endpoints.first?.ordering == RunReport.OrderingSummary(mode: "fifo", held: 1))
        #expect(outcome.report.endpoints.last?.ordering == nil)
        #expect(outcome.report.files.first?.outcome == .deferred)
        try await Self.expectValid(outcome, in: ws)
    }

    @Test("the validator rejects what the schema forbids")
    func schemaIsStrict() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.failing(ws)
        let json = try #require(outcome.reportFiles?.json)
        let original = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
        let failures = try #require(original["failures"] as? [[String: Any]])
        let noAnswer = try #require(failures.firstIndex { $0["endpoint"] as? String == "closed" && $0["last_status"] is NSNull })
        func setting(_ key: String, to value: Any, inFailure index: Int) -> (inout [String: Any]) -> Void {
            { report in
                var rows = report["failures"] as? [[String: Any]] ?? []
                rows[index][key] = value
                report["failures"] = rows
            }
        }

        let mutations: [(name: String, change: (inout [String: Any]) -> Void, expected: String)] = [
            ("status as a string", setting("last_status", to: "410", inFailure: 0), "failures/0"),
            ("no answer and no error word", setting("last_error", to: NSNull(), inFailure: noAnswer), "failures/\(noAnswer)"),
            ("a key missing", { $0.removeValue(forKey: "failures_omitted") }, "'failures_omitted' is a required property"),
            ("an unknown key", { $0["surprise"] = true }, "Additional properties are not allowed"),
            ("latency missing for an endpoint with attempts", { report in
                var endpoints = report["endpoints"] as? [[String: Any]] ?? []
                endpoints[0]["latency_ms"] = ["p50": NSNull(), "p90": NSNull(), "p99": NSNull(), "max": NSNull()]
                report["endpoints"] = endpoints
            }, "endpoints/0"),
        ]
        for mutation in mutations {
            var report = original
            mutation.change(&report)
            let path = "\(ws.root)/mutated.json"
            try JSONSerialization.data(withJSONObject: report).write(to: URL(fileURLWithPath: path))
            let result = try await ReportTools.validate(schema: Self.reportSchema, documents: [path])
            #expect(result.status == 1, "\(mutation.name): \(result.stdout)")
            #expect(result.stdout.contains(mutation.expected), "\(mutation.name): \(result.stdout)")
        }
    }
}
