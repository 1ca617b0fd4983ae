import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// `hookspool enqueue`: lines checked as a run checks them, then an atomic hand-over into `incoming/`.
@Suite("hookspool enqueue")
struct EnqueueTests {
    static func config(_ ws: borrowing TestWorkspace, port: Int = 9) throws -> String {
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: port), extra: "limits:\n  max_event_bytes: 1KiB"))
    }

    /// Names in `incoming/`, hidden ones too.
    static func incoming(_ ws: borrowing TestWorkspace) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: ws.spool + "/incoming")) ?? []).sorted()
    }

    @Test("a file and standard input become new spool files, complete, 0640, with the path printed; a last line without its newline gets one")
    func good() async throws {
        let ws = try TestWorkspace()
        let config = try Self.config(ws)
        try FileManager.default.createDirectory(atPath: ws.spool + "/incoming", withIntermediateDirectories: true)
        let lines = #"{"id":"evt_1","type":"order.created"}"# + "\n\n" + #"{"type":"order.paid","data":{"n":2}}"#
        try Data(lines.utf8).write(to: URL(fileURLWithPath: ws.root + "/orders.ndjson"))
        let fromFile = try await HookSpoolBinary.run(["enqueue", "--config", config, "orders.ndjson"], in: ws.root)
        #expect(fromFile.status == 0, "\(fromFile.output)")
        let path = fromFile.stdout.trimmingCharacters(in: .newlines)
        #expect(path.contains("/spool/incoming/orders-") && path.hasSuffix(".ndjson"), "\(path)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == lines + "\n")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o640)

        let fromStdin = try await HookSpoolBinary.run(["enqueue", "--config", config], in: ws.root, stdin: #"{"id":"evt_3","type":"t"}"# + "\n")
        #expect(fromStdin.status == 0, "\(fromStdin.output)")
        #expect(fromStdin.stdout.contains("/incoming/stdin-"))
        #expect(Self.incoming(ws).count == 2, "no temporary file left: \(Self.incoming(ws))")

        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: 9)), dryRun: true)
        #expect(outcome.report.totals.events == 3 && outcome.report.totals.invalidLines == 0)
    }

    @Test("a producer that may not read the config gives --spool: the default limits apply; not with --config too")
    func spoolWithoutConfig() async throws {
        let ws = try TestWorkspace()
        let config = try Self.config(ws)
        try FileManager.default.createDirectory(atPath: ws.spool + "/incoming", withIntermediateDirectories: true)
        // As deployed: the config (it names the secrets) is not the producer's to read.
        #expect(chmod(config, 0) == 0)
        let refused = try await HookSpoolBinary.run(["enqueue", "--config", config], in: ws.root, stdin: #"{"type":"t"}"# + "\n")
        #expect(refused.status == 78, "\(refused.output)")

        // 2 KiB is over the config's 1 KiB limit but within the default 1 MiB.
        let big = #"{"type":"t","data":""# + String(repeating: "x", count: 2048) + #""}"#
        let result = try await HookSpoolBinary.run(["enqueue", "--spool", "spool"], in: ws.root, stdin: big + "\n")
        #expect(result.status == 0, "\(result.output)")
        let path = result.stdout.trimmingCharacters(in: .newlines)
        #expect(path.hasSuffix("/spool/incoming/" + (Self.incoming(ws).first ?? "-")), "\(path)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == big + "\n")

        let tooBig = String(repeating: "y", count: (1 << 20) + 1)
        let over = try await HookSpoolBinary.run(["enqueue", "--spool", ws.spool], in: ws.root, stdin: #"{"type":"t","data":""# + tooBig + "\"}\n")
        #expect(over.status == 65, "\(over.output)")

        let both = try await HookSpoolBinary.run(["enqueue", "--spool", ws.spool, "--config", config], in: ws.root, stdin: "")
        #expect(both.status == 64 && both.stderr.contains("not both"), "\(both.output)")
        #expect(Self.incoming(ws).count == 1)
        _ = chmod(config, 0o600)
    }

    @Test("as deployed, incoming/ is write-and-search only (3733): the hand-over works and says so; no incoming/ is exit 74")
    func writeOnlyIncoming() async throws {
        let ws = try TestWorkspace()
        try FileManager.default.createDirectory(atPath: ws.spool + "/incoming", withIntermediateDirectories: true)
        // Not readable by the producer, so its folder cannot be opened to fsync.
        #expect(chmod(ws.spool + "/incoming", 0o333) == 0)
        defer { _ = chmod(ws.spool + "/incoming", 0o750) }
        let result = try await HookSpoolBinary.run(["enqueue", "--spool", ws.spool], in: ws.root, stdin: #"{"type":"t"}"# + "\n")
        #expect(result.status == 0, "\(result.output)")
        #expect(!result.stderr.contains("nothing enqueued"), "\(result.output)")
        let path = result.stdout.trimmingCharacters(in: .newlines)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_size == 13, "\(path)")

        let missing = try await HookSpoolBinary.run(["enqueue", "--spool", ws.root + "/nowhere"], in: ws.root, stdin: #"{"type":"t"}"# + "\n")
        #expect(missing.status == 74 && missing.stderr.contains("create the spool first"), "\(missing.output)")
    }

    @Test("a bad line anywhere enqueues nothing: exit 65, each bad line's number and reason; nothing left in incoming/")
    func badLines() async throws {
        let ws = try TestWorkspace()
        let config = try Self.config(ws)
        try FileManager.default.createDirectory(atPath: ws.spool + "/incoming", withIntermediateDirectories: true)
        try Data((#"{"id":"evt_1","type":"t"}"# + "\n").utf8).write(to: URL(fileURLWithPath: ws.root + "/good.ndjson"))
        let bad = [
            #"{"id":"evt_1","type":"t"}"#, "not json", #"{"id":"evt_3","type":"t"}"#, #"{"id":"evt_4"}"#,
            #"{"id":"evt_5","type":"t","data":""# + String(repeating: "x", count: 2000) + #""}"#, #"{"id":"evt_6","type":"t","timestamp":"soon"}"#,
        ].joined(separator: "\n") + "\n"
        try Data(bad.utf8).write(to: URL(fileURLWithPath: ws.root + "/bad.ndjson"))
        let result = try await HookSpoolBinary.run(["enqueue", "--config", config, "good.ndjson", "bad.ndjson"], in: ws.root)
        #expect(result.status == 65, "\(result.output)")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        #expect(lines.filter { $0.contains("bad.ndjson:") }.map { $0.split(separator: ":")[2] } == ["2", "4", "5", "6"].map { Substring($0) }, "\(lines)")
        #expect(lines.contains { $0.contains("bad.ndjson:5:") && $0.contains("max_event_bytes") })
        #expect(lines.last == "hookspool enqueue: nothing enqueued")
        #expect(result.stdout.isEmpty)
        #expect(Self.incoming(ws).isEmpty, "not even the good file, nor a temporary one: \(Self.incoming(ws))")

        let empty = try await HookSpoolBinary.run(["enqueue", "--config", config], in: ws.root, stdin: "")
        #expect(empty.status == 65 && empty.stderr.contains("empty"), "\(empty.output)")
    }

    @Test("enqueues racing runs: every event delivered exactly once, no line ever read half-written", .timeLimit(.minutes(2)))
    func racingRuns() async throws {
        let ws = try TestWorkspace()
        let received = Mutex<[String: Int]>([:])
        try await LoopbackReceiver.run(handler: { request in
            received.withLock { $0[request.header("webhook-id") ?? "?", default: 0] += 1 }
            return .ok
        }) { receiver in
            let config = try Self.config(ws, port: receiver.port)
            try FileManager.default.createDirectory(atPath: ws.spool + "/incoming", withIntermediateDirectories: true)
            let root = ws.root
            let yaml = try String(contentsOfFile: config, encoding: .utf8)
            let finished = Atomic<Bool>(false)
            let producers = Task {
                defer { finished.store(true, ordering: .sequentiallyConsistent) }
                for file in 0..<12 {
                    let body = (0..<150).map { #"{"id":"evt_\#(file)_\#($0)","type":"t","data":{"pad":"\#(String(repeating: "p", count: 500))"}}"# }.joined(separator: "\n") + "\n"
                    let result = try await HookSpoolBinary.run(["enqueue", "--config", config], in: root, stdin: body)
                    #expect(result.status == 0, "\(result.output)")
                }
            }
            // Runs back to back while the producers hand files over, then one to pick up the last.
            var invalid = 0
            var runs = 0
            while !finished.load(ordering: .sequentiallyConsistent) {
                invalid += try await ws.run(yaml).report.totals.invalidLines
                runs += 1
            }
            try await producers.value
            invalid += try await ws.run(yaml).report.totals.invalidLines
            #expect(runs > 1, "the runs raced the producers")
            #expect(invalid == 0, "a run read a file before it was whole")
            let counts = received.withLock { $0 }
            #expect(counts.count == 12 * 150)
            #expect(counts.values.allSatisfy { $0 == 1 })
        }
    }
}
