import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// Several hosts on one spool: each worker runs `hookspool run` through its own mount (its own
/// FUSE client) of one GlusterFS volume, as hosts would over a shared filesystem.
@Suite("Shared spool on GlusterFS", .serialized, .enabled(if: GlusterVolume.enabled, GlusterVolume.skipReason))
struct SharedSpoolTests {
    /// One config for every host, in the site folder; each host reads it through its own mount.
    static func writeConfig(_ volume: GlusterVolume, port: Int, concurrency: Int) throws {
        let yaml = testConfig(endpoints: testEndpoint(port: port), concurrency: concurrency, timeout: "30s", retryFor: "1h")
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: volume.sitePath(0) + "/config.yaml"))
        try FileManager.default.createDirectory(atPath: volume.sitePath(0) + "/spool/incoming", withIntermediateDirectories: true)
    }

    /// Starts `hookspool run` on host `index`: its own mount's path to the shared config.
    static func startRun(_ volume: GlusterVolume, host index: Int) async throws -> ChildProcess {
        try await HookSpoolBinary.start(["run", "--config", volume.sitePath(index) + "/config.yaml"], in: volume.sitePath(index))
    }

    /// Hands a file over on host `index` as a producer must: a temporary name, then a rename.
    static func drop(_ volume: GlusterVolume, host index: Int, name: String, _ lines: [String]) throws {
        let incoming = volume.sitePath(index) + "/spool/incoming"
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: "\(incoming)/.\(name).tmp"))
        guard rename("\(incoming)/.\(name).tmp", "\(incoming)/\(name)") == 0 else { throw TestFailure("rename \(name): errno \(errno)") }
    }

    /// The names in a spool folder of the site, hidden helpers left out.
    static func files(_ volume: GlusterVolume, _ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: volume.sitePath(0) + "/spool/" + folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// Deliveries per event id whose id starts with `prefix`.
    static func counts(_ requests: [ReceivedRequest], prefix: String = "") -> [String: Int] {
        var counts: [String: Int] = [:]
        for request in requests {
            guard let id = request.header("webhook-id"), id.hasPrefix(prefix) else { continue }
            counts[id, default: 0] += 1
        }
        return counts
    }

    @Test("three hosts with overlapping timers, producers on every host while they run: every pair exactly once")
    func threeHostsExactlyOnce() async throws {
        try await GlusterVolume.withMounts(3) { volume in
            try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(1)) }) { receiver in
                try Self.writeConfig(volume, port: receiver.port, concurrency: 8)
                let perHost = 8
                let events = 150
                let expected = 3 * perHost * events
                let state = TimerState(producers: 3)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for host in 0..<3 {
                        // A producer on every host, writing while the workers run.
                        group.addTask {
                            defer { state.producing.subtract(1, ordering: .relaxed) }
                            for file in 0..<perHost {
                                let lines = (1...events).map { #"{"id":"h\#(host)-f\#(file)-\#($0)","type":"order.created","data":{"n":\#($0)}}"# }
                                try Self.drop(volume, host: host, name: "h\(host)-f\(file).ndjson", lines)
                                try await Task.sleep(for: .milliseconds(150))
                            }
                        }
                        // Each host's timer starts a run every second, whether or not its last one has
                        // ended: runs overlap on every host and across hosts.
                        group.addTask {
                            let deadline = ContinuousClock.now + .seconds(180)
                            while state.producing.load(ordering: .relaxed) > 0 || receiver.requests.count < expected, ContinuousClock.now < deadline {
                                let run = try await Self.startRun(volume, host: host)
                                let running = state.runs.withLock { runs in
                                    runs.append(run)
                                    return runs.count { !$0.hasFinished }
                                }
                                state.mostAtOnce.max(running, ordering: .relaxed)
                                try await Task.sleep(for: .seconds(1))
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                for run in state.runs.withLock({ $0 }) {
                    let exit = try await run.waitForExit(timeout: .seconds(60))
                    #expect(exit.status == 0, "\(exit.output.suffix(3000))")
                }
                let counts = Self.counts(receiver.requests)
                #expect(counts.count == expected, "every pair delivered")
                let twice = counts.filter { $0.value > 1 }
                #expect(twice.isEmpty, "delivered more than once: \(twice.keys.sorted().prefix(10))")
                #expect(Self.files(volume, "done").count == 3 * perHost)
                #expect(Self.files(volume, "processing").isEmpty && Self.files(volume, "incoming").isEmpty && Self.files(volume, "deferred").isEmpty)
                #expect(state.mostAtOnce.load(ordering: .relaxed) >= 3, "at most \(state.mostAtOnce.load(ordering: .relaxed)) runs at once: the timers' runs did not overlap")
            }
        }
    }

    @Test("a host whose FUSE client dies, and a worker killed with kill -9: another host resumes their files, duplicates within their in-flight limit")
    func crashedHostsResumed() async throws {
        try await GlusterVolume.withMounts(3, killing: true) { volume in
            let concurrency = 8
            let events = 1500
            try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(5)) }) { receiver in
                try Self.writeConfig(volume, port: receiver.port, concurrency: concurrency)

                // Host 2 takes a file, and its whole FUSE client is killed mid-file: the run must end
                // (it can no longer journal), not hang and not go on sending.
                try Self.drop(volume, host: 2, name: "fuse.ndjson", (1...events).map { #"{"id":"fuse-\#($0)","type":"order.created","data":{}}"# })
                let lost = try await Self.startRun(volume, host: 2)
                try await receiver.waitForRequests(300, timeout: .seconds(60))
                try await volume.mounts[2].killClient()
                let ended = try await lost.waitForExit(timeout: .seconds(60))
                #expect(ended.status != 0, "a run whose spool vanished exited 0:\n\(ended.output.suffix(2000))")
                let sentByLost = Self.counts(receiver.requests, prefix: "fuse-").count
                #expect(sentByLost < events, "the file was finished before the client died; the test proves nothing")

                // Host 1 resumes it. The dead client's locks go when the server notices; until then a
                // run leaves the file for the next one.
                try await Self.drain(volume, host: 1)
                #expect(Self.files(volume, "done") == ["fuse.ndjson"])

                // Host 0 takes another file and is killed with SIGKILL mid-file; host 1 resumes it.
                try Self.drop(volume, host: 0, name: "kill.ndjson", (1...events).map { #"{"id":"kill-\#($0)","type":"order.created","data":{}}"# })
                let killed = try await Self.startRun(volume, host: 0)
                try await receiver.waitForRequests(receiver.requests.count + 300, timeout: .seconds(60))
                killed.send(SIGKILL)
                #expect(try await killed.waitForExit().status == -SIGKILL)
                #expect(Self.counts(receiver.requests, prefix: "kill-").count < events, "the file was finished before the kill; the test proves nothing")
                try await Self.drain(volume, host: 1)
                #expect(Self.files(volume, "done") == ["fuse.ndjson", "kill.ndjson"])

                for prefix in ["fuse-", "kill-"] {
                    let counts = Self.counts(receiver.requests, prefix: prefix)
                    #expect(counts.count == events, "every \(prefix) pair delivered")
                    let duplicates = counts.values.reduce(0) { $0 + $1 - 1 }
                    print("shared spool: \(prefix) file resumed on another host with \(duplicates) duplicates (bound \(concurrency))")
                    #expect(duplicates <= concurrency, "\(prefix) duplicates \(duplicates) > the killed run's in-flight limit \(concurrency)")
                }
            }
        }
    }

    @Test("a fifo endpoint served by two hosts whose runs overlap: every event once, in exact order; the other endpoint once each")
    func fifoAcrossHosts() async throws {
        try await GlusterVolume.withMounts(2) { volume in
            let endpoint = FifoTests.OrderedReceiver(busyEvery: 20, delay: .milliseconds(2))
            try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
                try Data(FifoTests.config(port: receiver.port).utf8).write(to: URL(fileURLWithPath: volume.sitePath(0) + "/config.yaml"))
                let spool = volume.sitePath(0) + "/spool"
                try FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
                let files = 6
                let perFile = 50
                let now = Int64(Date().timeIntervalSince1970)
                for file in 0..<files {
                    let lines = (1...perFile).map { #"{"id":"evt_\#(file * perFile + $0)","type":"t"}"# }
                    try Self.drop(volume, host: file % 2, name: "f\(file).ndjson", lines)
                    try FileSystem.setModificationTime("\(spool)/incoming/f\(file).ndjson", seconds: now - Int64(100 - file))
                }
                // Both hosts start together, twice; then they take turns until the spool is empty.
                for _ in 0..<2 {
                    let runs = [try await Self.startRun(volume, host: 0), try await Self.startRun(volume, host: 1)]
                    for run in runs {
                        let exit = try await run.waitForExit(timeout: .seconds(120))
                        #expect(exit.status == 0 || exit.status == 75, "\(exit.output.suffix(3000))")
                    }
                    try FifoTests.makeDeferredDue(spool: spool)
                }
                var rounds = 0
                while !(Self.files(volume, "processing").isEmpty && Self.files(volume, "incoming").isEmpty && Self.files(volume, "deferred").isEmpty) {
                    rounds += 1
                    try #require(rounds <= 20, "not finished in 20 runs: deferred/ holds \(Self.files(volume, "deferred"))")
                    let host = rounds % 2
                    let exit = try await HookSpoolBinary.run(["run", "--config", volume.sitePath(host) + "/config.yaml"], in: volume.sitePath(host), timeout: .seconds(120))
                    #expect(exit.status == 0 || exit.status == 75, "\(exit.output.suffix(3000))")
                    try FifoTests.makeDeferredDue(spool: spool)
                }
                let total = files * perFile
                #expect(endpoint.delivered.values == Array(1...total))
                #expect(FifoTests.neverBack(endpoint.arrivals.values) == nil)
                #expect(endpoint.other.values.count == total && Set(endpoint.other.values) == Set(1...total))
                #expect(Self.files(volume, "done").count == files)
            }
        }
    }

    /// Runs `hookspool run` on host `index` until the spool has nothing left to work on; each run must exit 0.
    static func drain(_ volume: GlusterVolume, host index: Int) async throws {
        var rounds = 0
        while !(files(volume, "processing").isEmpty && files(volume, "incoming").isEmpty && files(volume, "deferred").isEmpty) {
            rounds += 1
            try #require(rounds <= 20, "host \(index) did not finish the files in 20 runs: processing/ holds \(files(volume, "processing"))")
            let run = try await HookSpoolBinary.run(["run", "--config", volume.sitePath(index) + "/config.yaml"], in: volume.sitePath(index), timeout: .seconds(120))
            #expect(run.status == 0, "\(run.output.suffix(3000))")
        }
    }
}

/// What the producers and the hosts' timers of one test share.
private final class TimerState: Sendable {
    /// Producers still handing files over.
    let producing: Atomic<Int>
    /// Every run the timers started.
    let runs = Mutex<[ChildProcess]>([])
    /// The most runs seen going at once, on all hosts.
    let mostAtOnce = Atomic<Int>(0)

    init(producers: Int) { producing = Atomic(producers) }
}
