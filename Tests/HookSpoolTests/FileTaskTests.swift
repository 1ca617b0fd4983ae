import Foundation
import Testing
@testable import HookSpool

@Suite("File task")
struct FileTaskTests {
    static func task(in ws: borrowing TestWorkspace, resume: Journal.State = Journal.State()) throws -> FileTask {
        FileTask(
            name: "a.ndjson", originalName: "a.ndjson", claimed: nil, journal: try JournalWriter(path: ws.root + "/.a.ndjson.journal", validLength: nil),
            resume: resume, failuresPath: ws.root + "/.a.ndjson.failures"
        )
    }

    @Test("finished once, by whichever comes last of the end of reading and the last delivery")
    func completion() throws {
        let ws = try TestWorkspace()
        let file = try Self.task(in: ws)
        file.deliveryScheduled()
        file.deliveryScheduled()
        #expect(!file.deliveryFinished(DeliveryKey(line: 1, endpoint: "a"), of: scriptedEvent(line: 1), .delivered).last)
        #expect(!file.readingFinished(complete: true))
        #expect(file.deliveryFinished(DeliveryKey(line: 2, endpoint: "a"), of: scriptedEvent(line: 2), .delivered).last)
        #expect(file.outcome == .done)
        let empty = try Self.task(in: ws)
        #expect(empty.readingFinished(complete: true))
        #expect(!empty.readingFinished(complete: true))
    }

    @Test("a failure makes the file failed and gives the report's row; a deferral makes it deferred, due at the latest Retry-After")
    func outcomes() throws {
        let ws = try TestWorkspace()
        let file = try Self.task(in: ws)
        let failure = DeliveryFailure(attempts: 1, lastStatus: 400, reason: .rejected)
        for _ in 0..<3 { file.deliveryScheduled() }
        let failed = file.deliveryFinished(DeliveryKey(line: 1, endpoint: "a"), of: scriptedEvent(line: 1, id: "evt_x"), .failed(failure))
        #expect(failed.row == RunReport.FailureRow(file: "a.ndjson", line: 1, eventID: "evt_x", eventType: "t", endpoint: "a", failure: failure))
        #expect(file.outcome == .deferred, "not read to the end yet")
        _ = file.readingFinished(complete: true)
        #expect(file.outcome == .failed)
        _ = file.deliveryFinished(DeliveryKey(line: 2, endpoint: "a"), of: scriptedEvent(line: 2), .deferred(failure, firstAttempt: 5, notBefore: 900))
        #expect(file.deliveryFinished(DeliveryKey(line: 3, endpoint: "a"), of: scriptedEvent(line: 3), .deferred(failure, firstAttempt: 5, notBefore: 700)).last)
        #expect(file.outcome == .deferred)
        #expect(file.notBefore == 900)
        #expect(!file.wasInterruptedOnly)
        try file.journal?.close()
        try file.closeFailures()
        let sidecar = try String(contentsOfFile: ws.root + "/.a.ndjson.failures", encoding: .utf8)
        #expect(sidecar.split(separator: "\n").count == 1)
        let state = try Journal.read(ws.root + "/.a.ndjson.journal")
        #expect(state.finished == [DeliveryKey(line: 1, endpoint: "a")])
        #expect(state.firstAttempt.count == 2)
    }

    @Test("a stop alone leaves the file deferred, due at once; what earlier runs finished is not due again")
    func interruptedAndResumed() throws {
        let ws = try TestWorkspace()
        var resume = Journal.State()
        resume.finished = [DeliveryKey(line: 1, endpoint: "a")]
        resume.readComplete = true
        let file = try Self.task(in: ws, resume: resume)
        #expect(!file.isDue(DeliveryKey(line: 1, endpoint: "a")))
        #expect(file.isDue(DeliveryKey(line: 2, endpoint: "a")))
        file.deliveryScheduled()
        _ = file.deliveryFinished(DeliveryKey(line: 2, endpoint: "a"), of: scriptedEvent(line: 2), .interrupted)
        _ = file.readingFinished(complete: false)
        #expect(file.outcome == .deferred)
        #expect(file.wasInterruptedOnly)
        // Invalid lines are news only when no earlier run read the file to its end.
        #expect(!file.invalidLine(RunReport.FailureRow(file: "a.ndjson", invalidLine: 3, reason: "not JSON")))
    }
}
