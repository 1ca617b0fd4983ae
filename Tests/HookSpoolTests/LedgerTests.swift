import Testing
@testable import HookSpool

@Suite("Ledger")
struct LedgerTests {
    static func row(_ line: Int) -> RunReport.FailureRow {
        RunReport.FailureRow(file: "a.ndjson", line: line, eventID: "e", eventType: "t", endpoint: "hook", failure: DeliveryFailure(attempts: 1, lastStatus: 400, reason: .rejected))
    }

    @Test("outcomes count in the totals and in their endpoint's tally (which its lane keeps); only failures keep a row, up to the cap")
    func outcomes() throws {
        let endpoint = try scriptedEndpoint()
        let ledger = Ledger(endpoints: [endpoint], failureCap: 2)
        let tally = try #require(ledger.tallies.first)
        let failure = DeliveryFailure(attempts: 1, lastStatus: 400, reason: .rejected)
        ledger.record(.delivered, row: nil, tally: tally)
        ledger.record(.deferred(failure, firstAttempt: 0, notBefore: nil), row: Self.row(2), tally: tally)
        ledger.record(.interrupted, row: nil, tally: tally)
        for line in 3...5 { ledger.record(.failed(failure), row: Self.row(line), tally: tally) }
        tally.attempt(Attempt(number: 1, result: .response(status: 400), latency: .milliseconds(3)))
        tally.attempt(Attempt(number: 2, result: .failure(.timeout), latency: .milliseconds(30)))
        let report = ledger.report(runID: "r", startedAt: "", finishedAt: "", durationMs: 0, dryRun: false)
        #expect(report.totals.delivered == 1)
        #expect(report.totals.deferred == 2)
        #expect(report.totals.failed == 3)
        #expect(report.totals.attempts == 2)
        #expect(report.totals.retries == 1)
        #expect(report.failures.map(\.line) == [3, 4])
        #expect(report.failuresOmitted == 1)
        let summary = try #require(report.endpoints.first)
        #expect((summary.delivered, summary.failed, summary.deferred, summary.attempts) == (1, 3, 2, 2))
        #expect(summary.statusCodes == ["400": 1, "timeout": 1])
    }

    @Test("refused names: the first hundred are listed one by one, the rest in one line")
    func refused() {
        let ledger = Ledger(endpoints: [])
        for n in 0..<103 { ledger.refused(RefusedEntry(name: "x\(n)", reason: .symbolicLink)) }
        let report = ledger.report(runID: "r", startedAt: "", finishedAt: "", durationMs: 0, dryRun: false)
        #expect(ledger.refusedFiles == 103)
        #expect(report.errors.count == 101)
        #expect(report.errors.last == "refused 3 more names in incoming/ (not listed)")
    }
}
