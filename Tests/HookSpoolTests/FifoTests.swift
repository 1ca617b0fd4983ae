import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// `ordering: fifo`: an endpoint gets its deliveries one at a time, in spool order, across
/// retries, deferrals, overlapping runs and a `kill -9`; the other endpoints are not held back.
@Suite("Ordering: fifo")
struct FifoTests {
    /// The receiver of a fifo endpoint on `/fifo` and an unordered one on `/other`: it notes every
    /// request's event number, and the ones it answered 200, in arrival order.
    final class OrderedReceiver: Sendable {
        /// `/fifo` answers 503 to everything while this is set.
        let outage = Atomic<Bool>(false)
        /// The first arrival of this event number starts an outage (0: none).
        let outageAt: Int
        /// The first attempt of every event whose number is a multiple of this is answered 503 (0: none).
        let busyEvery: Int
        /// Event numbers answered 400 on `/fifo` (they fail for good) while `rejecting` is set.
        let rejected: Set<Int>
        let rejecting = Atomic<Bool>(true)
        let delay: Duration?
        private let seen = Mutex(Set<Int>())
        /// Every `/fifo` request's event number, in arrival order.
        let arrivals = OrderLog()
        /// The `/fifo` requests answered 200.
        let delivered = OrderLog()
        /// The `/other` requests.
        let other = OrderLog()

        init(outageAt: Int = 0, busyEvery: Int = 0, rejected: Set<Int> = [], delay: Duration? = nil) {
            self.outageAt = outageAt
            self.busyEvery = busyEvery
            self.rejected = rejected
            self.delay = delay
        }

        static func number(_ request: ReceivedRequest) -> Int {
            Int((request.header("webhook-id") ?? "").split(separator: "_").last ?? "") ?? -1
        }

        func reply(_ request: ReceivedRequest) -> ReceiverReply {
            let n = Self.number(request)
            guard request.path.hasPrefix("/fifo") else {
                other.append(n)
                return .ok
            }
            arrivals.append(n)
            let first = seen.withLock { $0.insert(n).inserted }
            if first && n == outageAt { outage.store(true, ordering: .sequentiallyConsistent) }
            if outage.load(ordering: .sequentiallyConsistent) { return ReceiverReply(status: 503, delay: delay) }
            if rejected.contains(n) && rejecting.load(ordering: .sequentiallyConsistent) { return ReceiverReply(status: 400, delay: delay) }
            if first && busyEvery > 0 && n % busyEvery == 0 { return ReceiverReply(status: 503, delay: delay) }
            delivered.append(n)
            return ReceiverReply(status: 200, body: "ok", delay: delay)
        }
    }

    static func config(port: Int, concurrency: Int = 16, maxAttempts: Int = 3) -> String {
        testConfig(
            endpoints: [
                testEndpoint(name: "fifo", port: port, path: "/fifo", more: "ordering: fifo"),
                testEndpoint(name: "other", port: port, path: "/other"),
            ].joined(separator: "\n"),
            concurrency: concurrency, maxAttempts: maxAttempts, backoff: "{initial: 5ms, max: 20ms}", retryFor: "1h"
        )
    }

    /// Drops `files` files of `perFile` events numbered 1… across them, oldest first; `padding`
    /// bytes of data make each event bigger (a file over 1 MiB is claimed in a batch of its own).
    static func dropFiles(_ ws: borrowing TestWorkspace, files: Int, perFile: Int, padding: Int = 0) throws {
        let pad = String(repeating: "x", count: padding)
        let now = Int64(Date().timeIntervalSince1970)
        for file in 0..<files {
            let lines = (1...perFile).map { line in
                let n = file * perFile + line
                return #"{"id":"evt_\#(n)","type":"t","data":{"n":\#(n),"pad":"\#(pad)"}}"#
            }
            let name = "f\(file).ndjson"
            try ws.drop(name, lines)
            // Spool order is by file time: a second apart, so the claim order is certain.
            try FileSystem.setModificationTime("\(ws.spool)/incoming/\(name)", seconds: now - Int64(100 - file))
        }
    }

    /// Makes every file waiting in `deferred/` due now.
    static func makeDeferredDue(_ ws: borrowing TestWorkspace) throws {
        try makeDeferredDue(spool: ws.spool)
    }

    /// Makes every file waiting in `SPOOL/deferred/` due now.
    static func makeDeferredDue(spool: String) throws {
        let deferred = spool + "/deferred"
        for name in try FileManager.default.contentsOfDirectory(atPath: deferred) where name.hasSuffix(".journal") {
            try FileSystem.setModificationTime("\(deferred)/\(name)", seconds: Int64(Date().timeIntervalSince1970) - 1)
        }
    }

    /// Whether a sequence never goes back (retries and a resend after a crash repeat a number).
    static func neverBack(_ values: [Int]) -> (Int, Int)? {
        for (earlier, later) in zip(values, values.dropFirst()) where later < earlier { return (earlier, later) }
        return nil
    }

    /// The first occurrence of each value, in order.
    static func firsts(_ values: [Int]) -> [Int] {
        var seen = Set<Int>()
        return values.filter { seen.insert($0).inserted }
    }

    /// The fifo endpoint's line in the spool.
    static func line(_ ws: borrowing TestWorkspace) throws -> [String] {
        try FifoQueue(spool: Spool(root: ws.spool), endpoint: "fifo").files()
    }

    @Test("ordering: fifo parses and sends one at a time; with concurrency above 1, or an unknown value, it is a config error naming the key")
    func config() throws {
        let ws = try TestWorkspace()
        let config = try ws.config(Self.config(port: 1))
        #expect(config.endpoints.map(\.ordering) == [.fifo, .none])
        #expect(config.endpoints.map(\.concurrency) == [1, 16])
        for (more, key, message) in [
            ("ordering: fifo\nconcurrency: 4", "endpoints[0] (hook).concurrency", "one delivery at a time"),
            ("ordering: lifo", "endpoints[0] (hook).ordering", "unknown ordering 'lifo'"),
        ] {
            #expect {
                _ = try ws.config(testConfig(endpoints: testEndpoint(port: 1, more: more)))
            } throws: { error in
                guard let issue = (error as? ConfigError)?.issues.first else { return false }
                return issue.key == key && issue.message.contains(message)
            }
        }
        #expect(try ws.config(testConfig(endpoints: testEndpoint(port: 1, more: "ordering: fifo\nconcurrency: 1"))).endpoints.first?.concurrency == 1)
    }

    @Test("500 events in three files arrive in exact order through 503s and an outage that spans two runs; the unordered endpoint gets all in the first run")
    func exactOrderAcrossAnOutage() async throws {
        let ws = try TestWorkspace()
        // 200, 150, 150 events: the outage starts in the second file.
        try ws.drop("f0.ndjson", (1...200).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        try ws.drop("f1.ndjson", (201...350).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        try ws.drop("f2.ndjson", (351...500).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let now = Int64(Date().timeIntervalSince1970)
        for (index, name) in ["f0.ndjson", "f1.ndjson", "f2.ndjson"].enumerated() {
            try FileSystem.setModificationTime("\(ws.spool)/incoming/\(name)", seconds: now - Int64(100 - index))
        }
        let endpoint = OrderedReceiver(outageAt: 260, busyEvery: 25)
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let yaml = Self.config(port: receiver.port)

            // Run 1: 1…259 delivered (every 25th after a 503), 260 deferred, 261…500 held.
            let first = try await ws.run(yaml)
            #expect(first.exitStatus == .tempFail)
            #expect(endpoint.delivered.values == Array(1...259))
            #expect(Set(endpoint.other.values) == Set(1...500), "the unordered endpoint got every event in the first run")
            let fifo = first.report.endpoints.first { $0.name == "fifo" }
            #expect(fifo?.ordering == RunReport.OrderingSummary(mode: "fifo", held: 240))
            #expect(fifo?.deferred == 241)
            #expect(ws.files("done") == ["f0.ndjson"] && ws.files("deferred") == ["f1.ndjson", "f2.ndjson"])
            #expect(try Self.line(ws) == ["f1.ndjson", "f2.ndjson"])

            // f1 is not due yet (the retry schedule's first step). f2, only held, is due when f1 is
            // if f1 had reached deferred/ when f2 was held, else at once; then a run at once holds
            // it again, behind f1 waiting there, until f1 is due: not at every run.
            let due = { (name: String) in FileSystem.regularFileInfo("\(ws.spool)/deferred/\(Spool.journalName(for: name))")?.modified.tv_sec }
            if let f2 = due("f2.ndjson"), f2 <= Int(Date().timeIntervalSince1970) {
                let early = try await ws.run(yaml)
                #expect(early.exitStatus == .tempFail)
                #expect(early.report.files.map(\.name) == ["f2.ndjson"])
            }
            #expect(due("f2.ndjson") != nil && due("f2.ndjson") == due("f1.ndjson"))

            // Run 2, still down: 260 is tried again and the rest stays held; nothing goes twice to the other endpoint.
            try Self.makeDeferredDue(ws)
            let attemptsBefore = endpoint.arrivals.values.count
            let second = try await ws.run(yaml)
            #expect(second.exitStatus == .tempFail)
            #expect(endpoint.arrivals.values.dropFirst(attemptsBefore).allSatisfy { $0 == 260 })
            #expect(endpoint.arrivals.values.count == attemptsBefore + 3)
            #expect(endpoint.other.values.count == 500)

            // Run 3, back up: 260…500 in order, every file done, the line empty.
            endpoint.outage.store(false, ordering: .sequentiallyConsistent)
            try Self.makeDeferredDue(ws)
            let third = try await ws.run(yaml)
            #expect(third.exitStatus == .ok)
            #expect(endpoint.delivered.values == Array(1...500))
            #expect(ws.files("done") == ["f0.ndjson", "f1.ndjson", "f2.ndjson"])
            #expect(try Self.line(ws).isEmpty)
            #expect(third.report.endpoints.first { $0.name == "fifo" }?.ordering?.held == 0)
        }
        #expect(Self.neverBack(endpoint.arrivals.values) == nil, "a request went before an earlier one: \(String(describing: Self.neverBack(endpoint.arrivals.values)))")
    }

    @Test("a delivery that fails for good lets the line move on; replayed, it comes after what was queued meanwhile")
    func failedMovesOn() async throws {
        let ws = try TestWorkspace()
        try Self.dropFiles(ws, files: 2, perFile: 5)
        let endpoint = OrderedReceiver(rejected: [3])
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let yaml = Self.config(port: receiver.port)
            let first = try await ws.run(yaml)
            #expect(first.exitStatus == .failures)
            #expect(endpoint.delivered.values == [1, 2, 4, 5, 6, 7, 8, 9, 10])
            #expect(ws.files("failed") == ["f0.failures.ndjson", "f0.ndjson"])
            #expect(ws.files("done") == ["f1.ndjson"])
            #expect(try Self.line(ws).isEmpty)

            // Replayed: it enters the line at its new claim, here before a file dropped meanwhile.
            _ = try Replay.requeue("f0.ndjson", spool: Spool(root: ws.spool))
            try ws.drop("g.ndjson", [#"{"id":"evt_11","type":"t"}"#])
            endpoint.rejecting.store(false, ordering: .sequentiallyConsistent)
            endpoint.delivered.clear()
            #expect(try await ws.run(yaml).exitStatus == .ok)
            #expect(endpoint.delivered.values == [3, 11])
            #expect(try Self.line(ws).isEmpty)
        }
    }

    @Test("a new file under the name of an older one still deferred for the fifo endpoint waits in incoming/ until that one has gone: old events first, then new")
    func reusedName() async throws {
        let ws = try TestWorkspace()
        try ws.drop("batch.ndjson", (1...3).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let endpoint = OrderedReceiver(outageAt: 2)
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let yaml = Self.config(port: receiver.port)
            // The outage defers events 2 and 3; the old file waits in deferred/ as the line's head.
            #expect(try await ws.run(yaml).exitStatus != .ok)
            #expect(ws.files("deferred").contains("batch.ndjson"))
            #expect(try Self.line(ws) == ["batch.ndjson"])

            // The producer drops the next batch under the same name; the old one is not due yet.
            try ws.drop("batch.ndjson", (4...5).map { #"{"id":"evt_\#($0)","type":"t"}"# })
            endpoint.outage.store(false, ordering: .sequentiallyConsistent)
            _ = try await ws.run(yaml)
            #expect(endpoint.delivered.values == [1], "nothing of the new file went ahead of the old one's 2 and 3")
            #expect(ws.files("incoming") == ["batch.ndjson"])
            #expect(endpoint.other.values.sorted() == [1, 2, 3])

            try Self.makeDeferredDue(ws)
            _ = try await ws.run(yaml)
            _ = try await ws.run(yaml)
            #expect(endpoint.delivered.values == [1, 2, 3, 4, 5])
            #expect(endpoint.other.values.sorted() == [1, 2, 3, 4, 5])
            #expect(ws.files("incoming").isEmpty && ws.files("deferred").isEmpty)
            #expect(try Self.line(ws).isEmpty)
        }
    }

    @Test("a FIFO, a folder or random bytes in place of the line: the run neither hangs nor crashes; it says so (exit 74), holds the fifo endpoint, and delivers the other")
    func hostileLine() async throws {
        for hostile in ["fifo", "folder", "bytes"] {
            let ws = try TestWorkspace()
            try Self.dropFiles(ws, files: 1, perFile: 3)
            let folder = ws.spool + "/fifo"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            switch hostile {
            case "fifo": #expect(mkfifo(folder + "/fifo.json", 0o600) == 0)
            case "folder": try FileManager.default.createDirectory(atPath: folder + "/fifo.json", withIntermediateDirectories: false)
            default: try Data((0..<4096).map { _ in UInt8.random(in: 0...255) }).write(to: URL(fileURLWithPath: folder + "/fifo.json"))
            }
            let endpoint = OrderedReceiver()
            try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
                let outcome = try await ws.run(Self.config(port: receiver.port))
                #expect(outcome.exitStatus == .ioError, "\(hostile)")
                #expect(endpoint.delivered.values.isEmpty, "\(hostile)")
                #expect(endpoint.other.values.sorted() == [1, 2, 3], "\(hostile)")
                #expect(outcome.report.errors.contains { $0.contains("fifo.json") }, "\(hostile): \(outcome.report.errors)")
            }
        }
    }

    @Test("two runs started together, and a third while they run: only the run with the first file in line delivers, the others hold; the next runs finish in exact order", .timeLimit(.minutes(3)))
    func overlappingRuns() async throws {
        let ws = try TestWorkspace()
        // Files over 1 MiB each: each is claimed on its own, so runs started together may share them.
        try Self.dropFiles(ws, files: 3, perFile: 60, padding: 18_000)
        let endpoint = OrderedReceiver(busyEvery: 30, delay: .milliseconds(5))
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let config = try ws.writeConfig(Self.config(port: receiver.port))
            var runs = [
                try await HookSpoolBinary.start(["run", "--config", config], in: ws.root),
                try await HookSpoolBinary.start(["run", "--config", config], in: ws.root),
            ]
            let deadline = ContinuousClock.now + .seconds(60)
            while endpoint.delivered.values.count < 10, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(endpoint.delivered.values.count >= 10)
            // Newer files, taken by a third run while the first files are still being delivered.
            for file in 3..<6 {
                let lines = (1...60).map { line in #"{"id":"evt_\#(file * 60 + line)","type":"t"}"# }
                try ws.drop("f\(file).ndjson", lines)
            }
            runs.append(try await HookSpoolBinary.start(["run", "--config", config], in: ws.root))
            var exits: [ChildProcess.Exit] = []
            for run in runs { exits.append(try await run.waitForExit(timeout: .seconds(120))) }
            for exit in exits { #expect(exit.status == 0 || exit.status == 75, "\(exit.output.suffix(2000))") }
            print("fifo, overlapping runs: exits \(exits.map(\.status)), \(endpoint.delivered.values.count) of 360 delivered before the next run")
            #expect(endpoint.delivered.values.count < 360, "nothing was held: the runs did not overlap")
            #expect(exits[2].status == 75 && exits[2].output.contains("an earlier file holds deliveries to this fifo endpoint"), "\(exits[2].output.suffix(2000))")
            try await Self.drain(ws, config: config)
            #expect(endpoint.delivered.values == Array(1...360))
            #expect(Set(endpoint.other.values) == Set(1...360) && endpoint.other.values.count == 360)
        }
        #expect(Self.neverBack(endpoint.arrivals.values) == nil)
    }

    @Test("a run killed with kill -9 mid-file: the next resumes where it stopped, and the order holds", .timeLimit(.minutes(3)))
    func killed() async throws {
        let ws = try TestWorkspace()
        try Self.dropFiles(ws, files: 3, perFile: 100)
        let endpoint = OrderedReceiver(busyEvery: 40, delay: .milliseconds(5))
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let config = try ws.writeConfig(Self.config(port: receiver.port))
            let run = try await HookSpoolBinary.start(["run", "--config", config], in: ws.root)
            try await run.waitFor("120 deliveries to the fifo endpoint", timeout: .seconds(60)) { endpoint.arrivals.values.count >= 120 }
            run.send(SIGKILL)
            #expect(try await run.waitForExit().status == -SIGKILL)
            #expect(endpoint.delivered.values.count < 300, "the run ended before the kill; the test proves nothing")
            try await Self.drain(ws, config: config)
            #expect(Self.firsts(endpoint.delivered.values) == Array(1...300))
            #expect(Set(endpoint.other.values) == Set(1...300))
        }
        #expect(Self.neverBack(endpoint.arrivals.values) == nil, "\(String(describing: Self.neverBack(endpoint.arrivals.values)))")
    }

    /// Runs the binary, making deferred files due, until every file is done (at most 10 runs).
    static func drain(_ ws: borrowing TestWorkspace, config: String) async throws {
        for _ in 0..<10 {
            try makeDeferredDue(ws)
            let exit = try await HookSpoolBinary.run(["run", "--config", config], in: ws.root, timeout: .seconds(120))
            #expect(exit.status == 0 || exit.status == 75, "\(exit.output.suffix(2000))")
            if exit.status == 0 && ws.files("deferred").isEmpty && ws.files("processing").isEmpty && ws.files("incoming").isEmpty { return }
        }
        Issue.record("files still waiting after 10 runs: deferred \(ws.files("deferred")), processing \(ws.files("processing"))")
    }
}
