import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// Nothing lost, nothing twice: resume, deferral, stop and crash, with real processes and signals.
@Suite("Durability")
struct DurabilityTests {
    /// Counts deliveries per (path, event id) at a receiver.
    static func counts(_ requests: [ReceivedRequest]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for request in requests {
            let id = request.header("webhook-id") ?? "?"
            counts["\(request.path) \(id)", default: 0] += 1
        }
        return counts
    }

    static func events(_ count: Int, prefix: String) -> [String] {
        (1...count).map { #"{"id":"\#(prefix)-\#($0)","type":"order.created","data":{"n":\#($0)}}"# }
    }

    @Test("an endpoint down in run 1 and up in run 2: deferred with its journal, then done, sending only what was pending")
    func deferThenDeliver() async throws {
        let ws = try TestWorkspace()
        try ws.drop("orders.ndjson", Self.events(20, prefix: "d"))
        let up = Mutex(false)
        try await LoopbackReceiver.run(handler: { request in
            request.path == "/flaky" && !up.withLock({ $0 }) ? ReceiverReply(status: 503) : .ok
        }) { receiver in
            let config = testConfig(
                endpoints: [
                    testEndpoint(name: "steady", port: receiver.port, path: "/steady"),
                    testEndpoint(name: "flaky", port: receiver.port, path: "/flaky"),
                ].joined(separator: "\n"),
                maxAttempts: 2,
                retryFor: "1h",
                extra: "  retry_schedule: [1m]"
            )
            let first = try await ws.run(config)
            #expect(first.exitStatus == .tempFail)
            #expect(first.report.totals.delivered == 20, "\(first.report.endpoints.map { "\($0.name) \($0.statusCodes)" }) \(first.report.failures.prefix(3))")
            #expect(first.report.totals.deferred == 20)
            #expect(first.report.totals.failed == 0)
            #expect(first.report.totals.filesDeferred == 1)
            #expect(first.report.files.first?.movedTo == "deferred/orders.ndjson")
            #expect(ws.files("deferred").contains("orders.ndjson"))
            #expect(ws.files("deferred", hidden: true).contains(".orders.ndjson.journal"))
            #expect(ws.files("processing").isEmpty)

            // Not due yet: a run now leaves it alone.
            let early = try await ws.run(config)
            #expect(early.report.totals.files == 0)
            #expect(ws.files("deferred").contains("orders.ndjson"))

            // Due (its journal's time has come), and the endpoint is back.
            try FileSystem.setModificationTime(ws.spool + "/deferred/.orders.ndjson.journal", seconds: Int64(Date().timeIntervalSince1970) - 1)
            up.withLock { $0 = true }
            let before = receiver.requests.count
            let second = try await ws.run(config)
            #expect(second.exitStatus == .ok)
            #expect(second.report.totals.delivered == 20)
            #expect(second.report.totals.deliveries == 20)
            let resent = receiver.requests[before...]
            #expect(resent.allSatisfy { $0.path == "/flaky" }, "the steady endpoint must not get its events again")
            #expect(ws.files("done") == ["orders.ndjson"])
            #expect(ws.files("deferred").isEmpty)
            let counts = Self.counts(receiver.requests.filter { $0.path == "/steady" })
            #expect(counts.count == 20 && counts.values.allSatisfy { $0 == 1 })
        }
    }

    @Test("past retry_for a deferred delivery fails for good and the file goes to failed/")
    func windowRunsOut() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", Self.events(3, prefix: "w"))
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 503) }) { receiver in
            let first = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 1, retryFor: "1h"))
            #expect(first.exitStatus == .tempFail)
            try FileSystem.setModificationTime(ws.spool + "/deferred/.a.ndjson.journal", seconds: 0)
            let second = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 1, retryFor: "0s"))
            #expect(second.exitStatus == .failures)
            #expect(second.report.totals.failed == 3)
            #expect(ws.files("failed") == ["a.failures.ndjson", "a.ndjson"])
            let rows = try ws.read("spool/failed/a.failures.ndjson").split(separator: "\n")
            #expect(rows.count == 3)
        }
    }

    @Test("a run resumes an orphaned file, sends only unjournalled pairs, and ignores a torn last record")
    func resumeWithTornJournal() async throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        try Data((Self.events(5, prefix: "r").joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: spool.processing + "/r.ndjson"))
        let journal = """
            {"r":"header","file":"r.ndjson"}
            {"r":"ok","l":1,"e":"hook"}
            {"r":"ok","l":2,"e":"hook"}
            {"r":"ok","l":3,"e":"ho
            """
        try Data(journal.utf8).write(to: URL(fileURLWithPath: spool.processing + "/.r.ndjson.journal"))
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(outcome.exitStatus == .ok)
            #expect(receiver.requests.compactMap { $0.header("webhook-id") }.sorted() == ["r-3", "r-4", "r-5"])
            #expect(ws.files("done") == ["r.ndjson"])
            #expect(ws.files("processing").isEmpty)
        }
    }

    @Test("a journal written through another mount (another device number, 0.4.0's identity) is the file's own; one of another file is set aside")
    func journalIdentityAcrossMounts() async throws {
        for (sameFile, expected) in [(true, ["m-3"]), (false, ["m-1", "m-2", "m-3"])] {
            let ws = try TestWorkspace()
            let spool = Spool(root: ws.spool)
            try spool.prepare()
            let path = spool.processing + "/m.ndjson"
            try Data((Self.events(3, prefix: "m").joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
            var info = stat()
            try #require(stat(path, &info) == 0)
            // As another host's mount records it: its own device number before this file's inode, size and mtime.
            let inode = sameFile ? UInt64(info.st_ino) : UInt64(info.st_ino) &+ 1
            let identity = "\(UInt64(info.st_dev) &+ 7):\(inode):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
            let journal = """
                {"r":"header","file":"m.ndjson","id":"\(identity)"}
                {"r":"ok","l":1,"e":"hook"}
                {"r":"ok","l":2,"e":"hook"}

                """
            try Data(journal.utf8).write(to: URL(fileURLWithPath: spool.processing + "/.m.ndjson.journal"))
            try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
                let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
                #expect(outcome.exitStatus == .ok)
                #expect(receiver.requests.compactMap { $0.header("webhook-id") }.sorted() == expected, "same file: \(sameFile)")
                #expect(ws.files("done") == ["m.ndjson"])
            }
        }
    }

    @Test("a sick endpoint: after a run of connection errors the circuit opens and the rest is deferred without attempts")
    func circuitOpens() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", Self.events(200, prefix: "c"))
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = testConfig(
                endpoints: [
                    testEndpoint(name: "healthy", port: receiver.port),
                    testEndpoint(name: "down", port: closed),
                ].joined(separator: "\n"),
                concurrency: 4,
                maxAttempts: 3,
                retryFor: "1h"
            )
            let outcome = try await ws.run(config)
            #expect(receiver.requests.count == 200)
            let down = try #require(outcome.report.endpoints.first { $0.name == "down" })
            #expect(down.deferred == 200)
            #expect(down.attempts < 30, "attempts after the circuit opened: \(down.attempts)")
            #expect(outcome.report.failures.isEmpty || outcome.report.failures.allSatisfy { $0.endpoint == "down" })
            #expect(outcome.exitStatus == .tempFail)
        }
    }

    @Test("retries waiting for their backoff wake up when the circuit opens, and are deferred at once")
    func circuitWakesWaitingRetries() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", Self.events(20, prefix: "w"))
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        // Each first failure waits a random time of up to 20 s; the fifth failure opens the circuit.
        let config = testConfig(
            endpoints: testEndpoint(name: "down", port: refusing.port),
            concurrency: 4,
            maxAttempts: 3,
            backoff: "{initial: 20s, max: 20s}",
            retryFor: "1h"
        )
        let clock = ContinuousClock()
        let started = clock.now
        let outcome = try await ws.run(config)
        let took = started.duration(to: clock.now)
        let down = try #require(outcome.report.endpoints.first { $0.name == "down" })
        #expect(down.deferred == 20)
        #expect(down.attempts < 10, "attempts: \(down.attempts)")
        #expect(took < .seconds(8), "the run took \(took): it waited out the backoff")
        #expect(outcome.exitStatus == .tempFail)
    }

    @Test("kill -9 at random moments, then runs until done: every pair at least once, duplicates within the in-flight limit", arguments: [1, 2, 3])
    func killNine(seed: Int) async throws {
        let ws = try TestWorkspace()
        try ws.drop("big.ndjson", Self.events(2000, prefix: "k\(seed)"))
        var generator = SeededGenerator(seed: UInt64(seed))
        let killAfter = Int.random(in: 100...1800, using: &generator)
        let concurrency = 16
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(2)) }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: concurrency, timeout: "30s", retryFor: "1h"))
            let child = try await HookSpoolBinary.start(["run"], in: ws.root)
            try await receiver.waitForRequests(killAfter, timeout: .seconds(60))
            child.send(SIGKILL)
            let killed = try await child.waitForExit()
            #expect(killed.status == -SIGKILL)
            // The next runs take the orphan up; a kill leaves at most the in-flight requests unjournalled.
            var status: Int32 = -1
            for _ in 0..<3 where status != 0 {
                status = try await HookSpoolBinary.run(["run"], in: ws.root).status
            }
            #expect(status == 0)
            let counts = Self.counts(receiver.requests)
            #expect(counts.count == 2000, "every pair delivered")
            let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
            #expect(duplicates <= concurrency, "duplicates \(duplicates) > in-flight limit \(concurrency)")
            #expect(ws.files("processing").isEmpty)
            #expect(ws.files("done") == ["big.ndjson"])
        }
    }

    @Test("three runs started together on 20 files: every pair exactly once")
    func overlappingRuns() async throws {
        let ws = try TestWorkspace()
        for file in 1...20 {
            try ws.drop("f\(file).ndjson", Self.events(25, prefix: "o\(file)"))
        }
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(1)) }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: 8, timeout: "30s"))
            let runs = [try await HookSpoolBinary.start(["run"], in: ws.root), try await HookSpoolBinary.start(["run"], in: ws.root), try await HookSpoolBinary.start(["run"], in: ws.root)]
            for run in runs {
                let result = try await run.waitForExit()
                #expect(result.status == 0, "\(result.output.suffix(2000))")
            }
            let counts = Self.counts(receiver.requests)
            #expect(counts.count == 500)
            #expect(counts.values.allSatisfy { $0 == 1 }, "some pair was delivered twice")
            #expect(ws.files("done").count == 20)
            #expect(ws.files("processing").isEmpty && ws.files("incoming").isEmpty)
        }
    }

    @Test("SIGTERM mid-run: exit 75, the report is written; the next run completes, nothing lost, nothing twice beyond in-flight")
    func sigterm() async throws {
        let ws = try TestWorkspace()
        try ws.drop("t.ndjson", Self.events(400, prefix: "t"))
        let concurrency = 8
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(20)) }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: concurrency, timeout: "30s", retryFor: "1h"))
            let child = try await HookSpoolBinary.start(["run", "--grace", "5s"], in: ws.root)
            try await receiver.waitForRequests(40, timeout: .seconds(60))
            child.send(SIGTERM)
            let stopped = try await child.waitForExit(timeout: .seconds(30))
            #expect(stopped.status == 75, "\(stopped.output)")
            #expect(stopped.output.contains("stopping"))
            #expect(FileManager.default.fileExists(atPath: ws.reports + "/latest.json"))
            #expect(ws.files("processing").isEmpty, "an interrupted file waits in deferred/")
            let next = try await HookSpoolBinary.run(["run"], in: ws.root)
            #expect(next.status == 0, "\(next.output)")
            let counts = Self.counts(receiver.requests)
            #expect(counts.count == 400)
            #expect(counts.values.reduce(0) { $0 + $1 - 1 } <= concurrency)
            #expect(ws.files("done") == ["t.ndjson"])
        }
    }

    @Test("an unusable report folder exits 74 and loses nothing")
    func unwritableReportFolder() async throws {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", Self.events(2, prefix: "u"))
        // A regular file where the report folder should be: unusable even for root.
        try Data().write(to: URL(fileURLWithPath: ws.reports))
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port)))
            let result = try await HookSpoolBinary.run(["run"], in: ws.root)
            #expect(result.status == 74, "\(result.output)")
            #expect(result.output.contains("cannot write the report"))
            #expect(ws.files("done") == ["a.ndjson"])
            #expect(receiver.requests.count == 2)
        }
    }

    @Test("an unusable spool folder exits 74")
    func unusableSpool() async throws {
        let ws = try TestWorkspace()
        try Data().write(to: URL(fileURLWithPath: ws.spool))
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 9)))
        let result = try await HookSpoolBinary.run(["run"], in: ws.root)
        #expect(result.status == 74)
        #expect(result.output.contains("spool folder unusable"))
    }
}

/// A full disk in the middle of a run, on a small tmpfs mounted over the spool.
@Suite("Durability: disk full")
struct DiskFullTests {
    @Test("the disk fills mid-run: exit 74 with a clear message, nothing lost; with room again the next run completes")
    func diskFull() async throws {
        let ws = try TestWorkspace()
        let lines = (1...400).map { #"{"id":"full-\#($0)","type":"order.created","data":{"pad":"\#(String(repeating: "x", count: 40))"}}"# }
        guard geteuid() == 0 else {
            try await Self.diskFullUnprivileged(ws, lines: lines)
            return
        }
        try FileManager.default.createDirectory(atPath: ws.spool, withIntermediateDirectories: true)
        guard await Self.shell("mount -t tmpfs -o size=256k tmpfs '\(ws.spool)'") else {
            Issue.record("cannot mount a tmpfs over the spool")
            return
        }
        // Unmounted however the test ends (a `defer` cannot wait for the umount).
        do {
            try await Self.diskFullOnTmpfs(ws, lines: lines)
        } catch {
            _ = await Self.shell("umount '\(ws.spool)'")
            throw error
        }
        _ = await Self.shell("umount '\(ws.spool)'")
    }

    /// The privileged half of `diskFull`, on the tmpfs mounted over the spool.
    static func diskFullOnTmpfs(_ ws: borrowing TestWorkspace, lines: [String]) async throws {
        try ws.drop("full.ndjson", lines)
        // Leave only a few pages free: the journal runs out of room part-way through.
        let filler = ws.spool + "/filler"
        var free = Self.freeBytes(ws.spool)
        let chunk = Data(repeating: 0x78, count: 4096)
        _ = FileManager.default.createFile(atPath: filler, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: filler))
        while free > 4096 {
            do { try handle.write(contentsOf: chunk) } catch { break }
            free = Self.freeBytes(ws.spool)
        }
        try handle.close()

        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let yaml = testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: 4, retryFor: "1h")
            let first = try await ws.run(yaml)
            #expect(first.exitStatus == .ioError)
            #expect(first.report.errors.contains { $0.contains("No space left") }, "\(first.report.errors)")
            #expect(ws.files("done").isEmpty)

            try FileManager.default.removeItem(atPath: filler)
            let second = try await ws.run(yaml)
            #expect(second.exitStatus == .ok, "\(second.report.errors)")
            let ids = Set(receiver.requests.compactMap { $0.header("webhook-id") })
            #expect(ids.count == 400, "every event delivered at least once")
            #expect(ws.files("done") == ["full.ndjson"])
            #expect(ws.files("processing").isEmpty)
        }
    }

    /// The same, as a user without root: the tmpfs is mounted in a user and mount namespace of the
    /// test's own, and both runs are the real binary in a namespace nested inside it that maps back
    /// to the test's user, so hookspool itself runs with its user's ids and no capabilities.
    static func diskFullUnprivileged(_ ws: borrowing TestWorkspace, lines: [String]) async throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: ws.root + "/full.ndjson"))
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: 4, retryFor: "1h"))
            let inner = """
                set -u
                mkdir -p spool/incoming && cp full.ndjson spool/incoming/.full.tmp && mv spool/incoming/.full.tmp spool/incoming/full.ndjson || exit 90
                # Leave less than a page free: the journal runs out of room part-way through.
                dd if=/dev/zero of=spool/filler bs=4096 2>/dev/null
                '\(HookSpoolBinary.path)' run --config config.yaml 2>first.log; echo $? > first.status
                ls spool/done > first.done
                rm spool/filler
                '\(HookSpoolBinary.path)' run --config config.yaml 2>second.log; echo $? > second.status
                ls spool/done > second.done; ls spool/processing > second.processing
                """
            let outer = "mkdir -p spool && mount -t tmpfs -o size=256k tmpfs spool && exec unshare --user --map-user=\(getuid()) --map-group=\(getgid()) sh -c \"$INNER\""
            let script = "INNER='\(inner.replacingOccurrences(of: "'", with: "'\\''"))'; export INNER; exec unshare --user --map-root-user --mount sh -c '\(outer)'"
            let result = try await ChildProcess.run("/bin/sh", ["-c", script], in: ws.root, timeout: .seconds(120))
            #expect(result.status == 0, "unshare or the script failed: \(result.stderr)")
            #expect(try ws.read("first.status").trimmingCharacters(in: .whitespacesAndNewlines) == "74")
            #expect(try ws.read("first.log").contains("No space left"))
            #expect(try ws.read("first.done").isEmpty)
            #expect(try ws.read("second.status").trimmingCharacters(in: .whitespacesAndNewlines) == "0", "\((try? ws.read("second.log")) ?? "")")
            let ids = Set(receiver.requests.compactMap { $0.header("webhook-id") })
            #expect(ids.count == 400, "every event delivered at least once")
            #expect(try ws.read("second.done") == "full.ndjson\n")
            #expect(try ws.read("second.processing").isEmpty)
        }
    }

    static func shell(_ command: String) async -> Bool {
        (try? await ChildProcess.run("/bin/sh", ["-c", command + " 2>/dev/null"]))?.status == 0
    }

    static func freeBytes(_ path: String) -> Int {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return 0 }
        return Int(info.f_bavail) * Int(info.f_frsize)
    }
}
