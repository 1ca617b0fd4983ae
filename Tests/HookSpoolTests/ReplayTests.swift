import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// `hookspool replay` with filters: it requeues exactly the failed pairs they pick, each once,
/// also with two replays started together; the rest stay in `failed/`.
@Suite("Replay what you choose")
struct ReplayTests {
    /// A receiver that answers each path its own way while `failing` is set, and 200 afterwards;
    /// it notes every request as `endpoint:event id`.
    final class Switchboard: Sendable {
        let failing = Atomic<Bool>(true)
        let requests = Mutex<[String]>([])

        func reply(_ request: ReceivedRequest) -> ReceiverReply {
            let endpoint = String(request.path.dropFirst())
            requests.withLock { $0.append("\(endpoint):\(request.header("webhook-id") ?? "?")") }
            guard failing.load(ordering: .sequentiallyConsistent) else { return .ok }
            switch endpoint {
            case "a": return ReceiverReply(status: 503)
            case "b": return ReceiverReply(status: 400)
            default: return .ok
            }
        }

        func take() -> [String] {
            requests.withLock { requests in
                defer { requests = [] }
                return requests
            }
        }
    }

    static func config(port: Int) -> String {
        testConfig(
            endpoints: ["a", "b", "c"].map { testEndpoint(name: $0, port: port, path: "/\($0)") }.joined(separator: "\n"),
            maxAttempts: 1, backoff: "{initial: 5ms, max: 10ms}"
        )
    }

    /// Two files, each with orders and users events: a fails with 503, b with 400, c succeeds.
    static func failEverything(_ ws: borrowing TestWorkspace, switchboard: Switchboard, port: Int) async throws -> String {
        try ws.drop("one.ndjson", [#"{"id":"evt_1","type":"order.created"}"#, #"{"id":"evt_2","type":"user.signup"}"#])
        try ws.drop("two.ndjson", [#"{"id":"evt_3","type":"order.paid"}"#, #"{"id":"evt_4","type":"user.signup"}"#])
        let path = try ws.writeConfig(Self.config(port: port))
        let first = try await HookSpoolBinary.run(["run", "--config", path], in: ws.root)
        #expect(first.status == 1, "\(first.output)")
        #expect(ws.files("failed") == ["one.failures.ndjson", "one.ndjson", "two.failures.ndjson", "two.ndjson"])
        #expect(switchboard.take().count == 12)
        switchboard.failing.store(false, ordering: .sequentiallyConsistent)
        return path
    }

    /// The spool of `ws` after `failEverything`, for tests that requeue in process.
    static func failedSpool(_ ws: borrowing TestWorkspace) async throws -> Spool {
        let switchboard = Switchboard()
        try await LoopbackReceiver.run(handler: switchboard.reply) { receiver in
            _ = try await Self.failEverything(ws, switchboard: switchboard, port: receiver.port)
        }
        return Spool(root: ws.spool)
    }

    @Test("--endpoint, --type, --status and --since/--until pick exactly their pairs; --dry-run lists them and changes nothing; the rest stay in failed/")
    func filters() async throws {
        let ws = try TestWorkspace()
        let switchboard = Switchboard()
        try await LoopbackReceiver.run(handler: switchboard.reply) { receiver in
            let config = try await Self.failEverything(ws, switchboard: switchboard, port: receiver.port)
            let before = try String(contentsOfFile: ws.root + "/spool/failed/one.failures.ndjson", encoding: .utf8)
            #expect(before.contains(#""first_attempt":"20"#), "failure rows carry the first attempt's time: \(before)")

            let dry = try await HookSpoolBinary.run(["replay", "--config", config, "--endpoint", "a", "--type", "order.*", "--dry-run"], in: ws.root)
            #expect(dry.status == 0, "\(dry.output)")
            #expect(dry.stdout.split(separator: "\n").map { $0.split(separator: "\t").prefix(3).joined(separator: " ") } == [
                "one.ndjson:1 a evt_1", "two.ndjson:1 a evt_3", "2 deliveries would be requeued",
            ])
            #expect(switchboard.take().isEmpty && ws.files("deferred").isEmpty, "a dry run sends and moves nothing")

            let replayed = try await HookSpoolBinary.run(["replay", "--config", config, "--endpoint", "a", "--type", "order.*"], in: ws.root)
            #expect(replayed.status == 0, "\(replayed.output)")
            #expect(switchboard.take().sorted() == ["a:evt_1", "a:evt_3"])
            // What was not picked stays failed, with its file: a's user events and every b delivery.
            #expect(ws.files("failed") == ["one.failures.ndjson", "one.ndjson", "two.failures.ndjson", "two.ndjson"])

            // By status: b's 400s only.
            let rejected = try await HookSpoolBinary.run(["replay", "--config", config, "--status", "400", "two.ndjson"], in: ws.root)
            #expect(rejected.status == 0, "\(rejected.output)")
            #expect(switchboard.take().sorted() == ["b:evt_3", "b:evt_4"])

            // A time window that holds no first attempt picks nothing: exit 65, nothing sent.
            let none = try await HookSpoolBinary.run(["replay", "--config", config, "--until", "2000-01-01T00:00:00Z"], in: ws.root)
            #expect(none.status == 65, "\(none.output)")
            #expect(none.stderr.contains("no failed delivery"), "\(none.stderr)")
            // One that holds them all: the rest, once each.
            let rest = try await HookSpoolBinary.run(["replay", "--config", config, "--since", "2000-01-01T00:00:00Z"], in: ws.root)
            #expect(rest.status == 0, "\(rest.output)")
            #expect(switchboard.take().sorted() == ["a:evt_2", "a:evt_4", "b:evt_1", "b:evt_2"])
            #expect(ws.files("failed").isEmpty)
            #expect(Set(ws.files("done")).isSuperset(of: ["one.ndjson", "two.ndjson"]))

            let bad = try await HookSpoolBinary.run(["replay", "--config", config, "--since", "yesterday"], in: ws.root)
            #expect(bad.status == 64 && bad.stderr.contains("not an RFC 3339 date-time"), "\(bad.output)")
            let unknown = try await HookSpoolBinary.run(["replay", "--config", config, "--endpoint", "zzz"], in: ws.root)
            #expect(unknown.status == 64, "\(unknown.output)")
        }
    }

    @Test("two filtered replays started together requeue each picked pair once", .timeLimit(.minutes(2)))
    func together() async throws {
        let ws = try TestWorkspace()
        let switchboard = Switchboard()
        try await LoopbackReceiver.run(handler: switchboard.reply) { receiver in
            let config = try await Self.failEverything(ws, switchboard: switchboard, port: receiver.port)
            let root = ws.root
            async let first = HookSpoolBinary.run(["replay", "--config", config, "--endpoint", "a"], in: root)
            async let second = HookSpoolBinary.run(["replay", "--config", config, "--endpoint", "a"], in: root)
            let results = try await [first, second]
            // One requeues (exit 0); the other finds them taken (65), or requeues what the first had not reached.
            #expect(results.allSatisfy { $0.status == 0 || $0.status == 65 }, "\(results.map(\.output))")
            #expect(results.contains { $0.status == 0 })
            #expect(switchboard.take().sorted() == ["a:evt_1", "a:evt_2", "a:evt_3", "a:evt_4"], "each once, and no b")
            let leftovers = try String(contentsOfFile: ws.root + "/spool/failed/one.failures.ndjson", encoding: .utf8)
            #expect(leftovers.contains(#""endpoint":"b""#) && !leftovers.contains(#""endpoint":"a""#))
        }
    }

    @Test("in process, two requeues of the same pairs at once: one wins, the other is told why; the same file again picks nothing")
    func sameFileTwice() async throws {
        let ws = try TestWorkspace()
        let spool = try await Self.failedSpool(ws)
        let filter = Replay.Filter(endpoints: ["a"])
        let outcomes = await withTaskGroup(of: Result<Int, any Error>.self) { group in
            for _ in 0..<4 {
                group.addTask { Result { try Replay.requeue("one.ndjson", spool: spool, filter: filter).deliveries } }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.compactMap { try? $0.get() } == [2], "exactly one requeue, of both a pairs")
        #expect(ws.files("deferred").contains("one.ndjson") && ws.files("failed").contains("one.ndjson"))
        #expect(throws: Replay.Problem.self) { try Replay.requeue("one.ndjson", spool: spool, filter: filter) }
    }

    @Test("a failed file with a second name (a replay interrupted mid-move) is not replayed again; a partial replay keeps the sidecar's unreadable lines and its mode")
    func interrupted() async throws {
        let ws = try TestWorkspace()
        let spool = try await Self.failedSpool(ws)
        let sidecar = ws.spool + "/failed/two.failures.ndjson"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: sidecar))
        handle.seekToEndOfFile()
        handle.write(Data("{\"a line from a later version\": true}\n".utf8))
        try handle.close()
        #expect(chmod(sidecar, 0o640) == 0)
        _ = try Replay.requeue("two.ndjson", spool: spool, filter: Replay.Filter(endpoints: ["a"]))
        let kept = try String(contentsOfFile: sidecar, encoding: .utf8)
        #expect(kept.contains("a line from a later version") && kept.contains(#""endpoint":"b""#) && !kept.contains(#""endpoint":"a""#))
        var info = stat()
        #expect(stat(sidecar, &info) == 0 && info.st_mode & 0o777 == 0o640)

        #expect(link(ws.spool + "/failed/one.ndjson", ws.spool + "/done/one.ndjson") == 0)
        #expect(throws: Replay.Problem.self) { try Replay.requeue("one.ndjson", spool: spool) }
        #expect(ws.files("deferred") == ["two.ndjson"], "nothing of one.ndjson was requeued")
    }
}
