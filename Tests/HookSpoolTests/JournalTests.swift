import Foundation
import Testing
@testable import HookSpool

/// The journal's own record format: written and read by `Journal.Record`, and format 1 still read.
@Suite("Journal")
struct JournalTests {
    @Test("the hand-written hot-path record is exactly what the Codable record decodes")
    func deliveredLine() throws {
        let line = JournalWriter.deliveredLine(DeliveryKey(line: 42, endpoint: "billing-eu_2"))
        let record = try JSONDecoder().decode(Journal.Record.self, from: Data(line.utf8))
        #expect(record == Journal.Record(r: "ok", l: 42, e: "billing-eu_2"))
    }

    @Test("a journal written now reads back: header with its format, finished and deferred deliveries, failures with their reason")
    func roundTrip() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/.a.ndjson.journal"
        let journal = try JournalWriter(path: path, validLength: nil)
        journal.header(originalName: "a \"quoted\".ndjson", identity: "1:2:3:4")
        journal.delivered(DeliveryKey(line: 1, endpoint: "a"))
        let failure = DeliveryFailure(attempts: 2, lastStatus: 404, reason: .rejected, responseExcerpt: "no such hook")
        journal.failed(DeliveryKey(line: 2, endpoint: "a"), Journal.Failure(scriptedEvent(line: 2, id: "evt_2"), file: "a.ndjson", endpoint: "a", failure))
        let later = DeliveryFailure(attempts: 5, reason: .transport(.timeout))
        journal.deferred(DeliveryKey(line: 3, endpoint: "a"), firstAttempt: 1_700_000_000, Journal.Failure(scriptedEvent(line: 3, id: "evt_3"), file: "a.ndjson", endpoint: "a", later))
        journal.readComplete()
        journal.fileDeferred(count: 2, next: 1_700_000_600)
        try journal.close()

        let text = try String(contentsOfFile: path, encoding: .utf8)
        let header = try JSONDecoder().decode(Journal.Record.self, from: Data(text.prefix { $0 != "\n" }.utf8))
        #expect(header.r == "header")
        #expect(header.v == Journal.format)
        let state = try Journal.read(path)
        #expect(state.originalName == "a \"quoted\".ndjson")
        #expect(state.identity == "1:2:3:4")
        #expect(state.finished == [DeliveryKey(line: 1, endpoint: "a"), DeliveryKey(line: 2, endpoint: "a")])
        #expect(state.failures == [Journal.FailedDelivery(key: DeliveryKey(line: 2, endpoint: "a"), failure: Journal.Failure(scriptedEvent(line: 2, id: "evt_2"), file: "a.ndjson", endpoint: "a", failure))])
        #expect(state.firstAttempt == [DeliveryKey(line: 3, endpoint: "a"): 1_700_000_000])
        #expect(state.readComplete)
        #expect(state.deferrals == 2)
        #expect(state.validLength == text.utf8.count)

        // 0.4.0 read each failure as the report's row, which needs `file` and `line`: a rollback still reads it.
        struct FormatOneRecord: Decodable { var row: RunReport.FailureRow? }
        for line in text.split(separator: "\n") where line.contains("\"row\"") {
            let row = try JSONDecoder().decode(FormatOneRecord.self, from: Data(line.utf8)).row
            #expect(row?.file == "a.ndjson")
            #expect(row?.endpoint == "a")
        }
    }

    @Test("a file's identity leaves out the device number, and 0.4.0's, which led with it, still matches")
    func identityWithoutDevice() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/a.ndjson"
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)
        let current = FileSystem.identity(of: fd)
        #expect(current == "\(info.st_ino):3:\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
        #expect(FileSystem.sameIdentity(recorded: current, current: current))
        #expect(FileSystem.sameIdentity(recorded: "64769:" + current, current: current))
        #expect(!FileSystem.sameIdentity(recorded: "64769:1:" + current, current: current))
        #expect(!FileSystem.sameIdentity(recorded: "\(info.st_ino):4:\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)", current: current))
    }

    @Test("a format-1 journal (0.4.0: the report's whole row in each failure) resumes the same")
    func formatOne() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/.a.ndjson.journal"
        let lines = [
            #"{"r":"header","file":"a.ndjson","id":"1:2:3:4"}"#,
            #"{"r":"ok","l":1,"e":"hook"}"#,
            #"{"r":"failed","l":2,"e":"hook","row":{"file":"a.ndjson","line":2,"event_id":"evt_2","event_type":"t","endpoint":"hook","attempts":3,"last_status":503,"last_error":"retries_exhausted","response_excerpt":"busy"}}"#,
            #"{"r":"deferred","l":3,"e":"hook","first":1700000000,"row":{"file":"a.ndjson","line":3,"event_id":"evt_3","event_type":"t","endpoint":"hook","attempts":1,"last_status":null,"last_error":"circuit_open","response_excerpt":null}}"#,
            #"{"r":"read"}"#,
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
        let state = try Journal.read(path)
        #expect(state.originalName == "a.ndjson")
        let failure = DeliveryFailure(attempts: 3, lastStatus: 503, reason: .retriesExhausted, responseExcerpt: "busy")
        #expect(state.failures == [Journal.FailedDelivery(key: DeliveryKey(line: 2, endpoint: "hook"), failure: Journal.Failure(scriptedEvent(line: 2, id: "evt_2"), file: "a.ndjson", endpoint: "hook", failure))])
        #expect(state.finished.count == 2)
        #expect(state.firstAttempt[DeliveryKey(line: 3, endpoint: "hook")] == 1_700_000_000)
        #expect(state.readComplete)
    }
}
