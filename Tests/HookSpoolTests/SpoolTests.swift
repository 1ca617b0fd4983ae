import Foundation
import NIOCore
import Testing
@testable import HookSpool

/// Line rules, ids, routing, the spool's folders, journal and line reader: the engine's pure parts.
@Suite("Spool and routing")
struct SpoolTests {
    func decode(_ line: String, file: String = "f.ndjson", number: Int = 1) -> EventDecoder.Decoded {
        let decoder = EventDecoder(fileName: file, defaultTimestamp: "2026-11-29T05:00:00Z")
        return Array(line.utf8).withUnsafeBytes { decoder.decode(number: number, bytes: $0) }
    }

    func event(_ line: String, file: String = "f.ndjson", number: Int = 1) throws -> Event {
        guard case .event(let event) = decode(line, file: file, number: number) else { throw TestFailure("not an event: \(line)") }
        return event
    }

    @Test("a derived id is deterministic: same file, line and bytes give the same id; any change gives another")
    func derivedIDs() throws {
        let line = #"{"type":"order.created","data":{"n":1}}"#
        let a = try event(line).id
        #expect(a == (try event(line).id))
        #expect(a.hasPrefix("evt_") && a.count == 36)
        #expect(a != (try event(line, number: 2).id))
        #expect(a != (try event(line, file: "g.ndjson").id))
        #expect(a != (try event(#"{"type":"order.created","data":{"n":2}}"#).id))
        #expect(try event(#"{"id":"given","type":"t"}"#).id == "given")
    }

    @Test("missing id, timestamp and data are added; the file time is the default timestamp")
    func defaults() throws {
        let body = try event(#"{"type":"t","x":1}"#).body
        let text = String(buffer: body)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["timestamp"] as? String == "2026-11-29T05:00:00Z")
        #expect((object["data"] as? [String: Any]) != nil)
        #expect(object["x"] as? Int == 1)
        #expect(object["type"] as? String == "t")
    }

    @Test("invalid lines and their reasons", arguments: [
        ("nope", "JSON"),
        (#"[1,2]"#, "object"),
        (#"{"id":"a"}"#, "type"),
        (#"{"type":""}"#, "type"),
        (#"{"type":5}"#, "type"),
        (#"{"type":"t","id":7}"#, "id"),
        (#"{"type":"t","id":"a\nb"}"#, "control"),
        (#"{"type":"t","timestamp":"yesterday"}"#, "RFC 3339"),
        (#"{"type":"t","timestamp":"2026-02-30T00:00:00Z"}"#, "RFC 3339"),
    ])
    func invalid(line: String, reasonContains: String) {
        guard case .invalid(let reason) = decode(line) else {
            Issue.record("accepted: \(line)")
            return
        }
        #expect(reason.localizedCaseInsensitiveContains(reasonContains), "\(reason)")
    }

    @Test("blank lines are skipped")
    func blank() {
        guard case .blank = decode("  \t ") else {
            Issue.record("not blank")
            return
        }
    }

    @Test("RFC 3339")
    func rfc3339() {
        for good in ["2026-11-29T05:00:00Z", "2026-11-29t05:00:00.123456z", "2024-02-29T23:59:60+01:00", "2026-01-01T00:00:00-00:30"] {
            #expect(RFC3339.isValid(good), "\(good)")
        }
        for bad in ["2026-11-29", "2026-11-29 05:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-29T05:00:00", "2026-11-29T05:00:00.Z", "2026-11-29T24:00:00Z"] {
            #expect(!RFC3339.isValid(bad), "\(bad)")
        }
        #expect(RFC3339.format(secondsSince1970: 0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(secondsSince1970: 1_614_265_330, milliseconds: 7) == "2021-02-25T15:02:10.007Z")
    }

    @Test("globs", arguments: [
        ("order.*", "order.created", true),
        ("order.*", "order.item.added", true),
        ("order.*", "order", false),
        ("order.*", "orders.created", false),
        ("*", "anything", true),
        ("order.created", "order.created", true),
        ("order.created", "order.created2", false),
        ("*.failed", "payment.failed", true),
        ("*.failed", "payment.failed.twice", false),
        ("a?c", "abc", true),
        ("a?c", "ac", false),
        ("*a*b*", "xaxxbx", true),
        ("*a*b*", "xbxa", false),
    ])
    func glob(pattern: String, type: String, matches: Bool) throws {
        #expect(try EventPattern(pattern).matches(type) == matches)
    }

    @Test("a long pathological glob does not take exponential time")
    func globIsLinear() throws {
        let pattern = try EventPattern(String(repeating: "*a", count: 30) + "b")
        #expect(!pattern.matches(String(repeating: "a", count: 200)))
    }

    @Test("spool names: temporary names are never read")
    func readyNames() {
        #expect(Spool.isReadyName("orders-1.ndjson"))
        #expect(Spool.isReadyName("orders-1.jsonl"))
        #expect(!Spool.isReadyName(".orders-1.ndjson"))
        #expect(!Spool.isReadyName("orders-1.ndjson.tmp"))
        #expect(!Spool.isReadyName("orders-1.json"))
        #expect(Spool.sidecarName(for: "orders-1.ndjson") == "orders-1.failures.ndjson")
        #expect(Spool.alternativeName(for: "orders-1.ndjson", suffix: "R") == "orders-1-R.ndjson")
    }

    @Test("claim takes oldest first, ignores temporary names, and never takes a file twice")
    func claim() throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        for (name, age) in [("b.ndjson", 100), ("a.ndjson", 50), ("c.jsonl", 200)] {
            let path = "\(spool.incoming)/\(name)"
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: path))
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -Double(age))], ofItemAtPath: path)
        }
        try Data().write(to: URL(fileURLWithPath: "\(spool.incoming)/.d.ndjson"))
        try Data().write(to: URL(fileURLWithPath: "\(spool.incoming)/e.ndjson.tmp"))
        try Data().write(to: URL(fileURLWithPath: "\(spool.incoming)/notes.txt"))
        let listing = try spool.readyFiles()
        #expect(listing.ready.map(\.name) == ["c.jsonl", "b.ndjson", "a.ndjson"])
        #expect(listing.ignored == ["notes.txt"])
        let first = try #require(listing.ready.first)
        guard case .claimed(let claimed) = try spool.claim(first) else {
            Issue.record("not claimed")
            return
        }
        #expect(claimed.path == "\(spool.processing)/c.jsonl")
        guard case .alreadyClaimed = try spool.claim(first) else {
            Issue.record("claimed twice")
            return
        }
        // While this run holds the file, no other run may take it up as an orphan.
        #expect(try spool.orphans().isEmpty)
        // A different file of the same name arriving while the first is processed waits.
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(spool.incoming)/c.jsonl"))
        guard case .nameBusy = try spool.claim(first) else {
            Issue.record("a busy name was claimed")
            return
        }
        #expect(ws.files("incoming").contains("c.jsonl"))
        // Finishing never overwrites an earlier file of the same name.
        #expect(try spool.finish(claimed, outcome: .done, runID: "R1") == "done/c.jsonl")
        claimed.release()
        guard case .claimed(let again) = try spool.claim(first) else {
            Issue.record("not claimed after the first finished")
            return
        }
        #expect(try spool.finish(again, outcome: .done, runID: "R2") == "done/c-R2.jsonl")
        #expect(ws.files("done") == ["c-R2.jsonl", "c.jsonl"])
    }

    @Test("a batch claim takes every file it can, in order, and reports the rest one by one")
    func claimBatch() throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        for name in ["a.ndjson", "b.ndjson", "c.ndjson"] {
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(spool.incoming)/\(name)"))
        }
        let entries = try spool.readyFiles().ready
        // Another run took b first.
        let b = try #require(entries.first { $0.name == "b.ndjson" })
        guard case .claimed(let other) = try spool.claim(b) else {
            Issue.record("b not claimed")
            return
        }
        let results = spool.claim(batch: entries)
        var words: [String] = []
        for result in results {
            switch result {
            case .success(.claimed(let file)): words.append("claimed \(file.name)")
            case .success(.alreadyClaimed): words.append("already")
            case .success(.nameBusy): words.append("busy")
            case .success(.refused(let reason)): words.append("refused \(reason)")
            case .failure(let error): words.append("error \(error)")
            }
        }
        let names = entries.map(\.name)
        #expect(names.count == 3)
        let expected = names.map { $0 == "b.ndjson" ? "already" : "claimed \($0)" }
        #expect(words == expected)
        #expect(ws.files("incoming").isEmpty)
        #expect(ws.files("processing") == ["a.ndjson", "b.ndjson", "c.ndjson"])
        // Held by this run and the other: none of them is an orphan.
        #expect(try spool.orphans().isEmpty)
        other.release()
        withExtendedLifetime(results) {}
    }

    @Test("a file in processing/ whose owner is gone is an orphan; a live owner's is not")
    func orphans() throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(spool.processing)/dead.ndjson"))
        try Data("{}\n".utf8).write(to: URL(fileURLWithPath: "\(spool.processing)/.dead.ndjson.journal"))
        let found = try spool.orphans()
        #expect(found.map(\.name) == ["dead.ndjson"])
        // Held by this "run" now: a second scan (another run) must not take it.
        #expect(try spool.orphans().isEmpty)
        found.forEach { $0.release() }
        #expect(try spool.orphans().map(\.name) == ["dead.ndjson"])
    }

    @Test("a closed journal reports no error (a delivery task may ask after the file's last one closed it); a record after closing is one")
    func journalClose() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/.f.ndjson.journal"
        let journal = try JournalWriter(path: path, validLength: nil)
        journal.delivered(DeliveryKey(line: 1, endpoint: "a"))
        try journal.close()
        let afterClose = journal.error
        #expect(afterClose == nil)
        let state = try Journal.read(path)
        #expect(state.finished.contains(DeliveryKey(line: 1, endpoint: "a")))
        journal.delivered(DeliveryKey(line: 2, endpoint: "a"))
        let afterLateRecord = journal.error
        #expect(afterLateRecord != nil)
    }

    @Test("the line reader goes back to a position it gave, line numbers included")
    func lineReaderSeek() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/lines.ndjson"
        try Data("one\ntwo\n\nfour\nfive".utf8).write(to: URL(fileURLWithPath: path))
        let reader = try LineReader(path: path, maxLineBytes: 100, chunkSize: 4)
        func line() throws -> String? {
            try reader.next { line -> String in
                switch line {
                case .text(let number, let bytes): return "\(number):\(String(decoding: bytes, as: UTF8.self))"
                case .oversized(let number, _): return "\(number):oversized"
                }
            }
        }
        #expect(try line() == "1:one")
        let second = reader.position
        var rest: [String] = []
        while let next = try line() { rest.append(next) }
        #expect(rest == ["2:two", "3:", "4:four", "5:five"])
        reader.seek(to: second)
        var again: [String] = []
        while let next = try line() { again.append(next) }
        #expect(again == rest)
    }

    @Test("the line reader streams: long lines are measured, not kept; CRLF and a missing final newline are fine")
    func lineReader() throws {
        let ws = try TestWorkspace()
        let path = ws.root + "/lines"
        let text = "one\r\n" + String(repeating: "x", count: 300_000) + "\n\nlast"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        let reader = try LineReader(path: path, maxLineBytes: 1000, chunkSize: 4096)
        var seen: [String] = []
        while let item = try reader.next({ line -> String in
            switch line {
            case .text(let n, let bytes): return "\(n):\(String(decoding: bytes, as: UTF8.self))"
            case .oversized(let n, let length): return "\(n):oversized \(length)"
            }
        }) {
            seen.append(item)
        }
        #expect(seen == ["1:one", "2:oversized 300000", "3:", "4:last"])
    }

    @Test("latency percentiles are within about 1%")
    func histogram() {
        var histogram = LatencyHistogram()
        for ms in 1...1000 { histogram.record(.milliseconds(ms)) }
        let p50 = histogram.percentile(0.5) ?? 0
        let p99 = histogram.percentile(0.99) ?? 0
        #expect(abs(p50 - 500) <= 6)
        #expect(abs(p99 - 990) <= 11)
        #expect(histogram.maxMilliseconds == 1000)
        #expect(LatencyHistogram().percentile(0.5) == nil)
    }

    @Test("URLs are redacted for display and keep what is sent")
    func urls() throws {
        let plain = try EndpointURL(parsing: "https://hooks.example.com/in")
        #expect(plain.redacted == "https://hooks.example.com/in" && plain.port == 443 && plain.basicAuthorization == nil)
        let v6 = try EndpointURL(parsing: "http://[::1]:8080")
        #expect(v6.host == "::1" && v6.requestURL == "http://[::1]:8080/" && v6.port == 8080)
        #expect(throws: EndpointURL.ParseError.self) { try EndpointURL(parsing: "https://example.com/#frag") }
        #expect(throws: EndpointURL.ParseError.self) { try EndpointURL(parsing: "https://exa mple.com/") }
        #expect(throws: EndpointURL.ParseError.self) { try EndpointURL(parsing: "https://example.com:0/") }
    }
}
