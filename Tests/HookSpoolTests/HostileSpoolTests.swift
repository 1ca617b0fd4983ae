import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// What producers can put in `incoming/`, wrong or hostile: every run reads only regular files
/// inside the spool, never blocks on one, never crashes on one, and reports what it refused.
@Suite("Hostile producers")
struct HostileSpoolTests {
    static let event = #"{"id":"evt_ok","type":"t","data":{}}"#

    /// A file outside the spool that nothing may read through a link.
    static func secretOutside(_ ws: borrowing TestWorkspace) throws -> String {
        let path = ws.root + "/outside-secret.ndjson"
        try Data((#"{"id":"evt_SECRET","type":"t","data":{"secret":"do-not-send"}}"# + "\n").utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Makes a listening Unix socket at `path` (a producer can bind one in incoming/); returns its descriptor.
    static func bindSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw TestFailure("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in bytes.enumerated() { raw[i] = byte }
        }
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw TestFailure("bind failed: \(errno)") }
        return fd
    }

    /// A folder on a file system that takes any 64-bit file time (`/dev/shm`, a tmpfs), else the temporary folder.
    static var anyTimeFolder: String {
        access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
    }

    /// Sets a file's access and modification times; false when its file system refuses the time.
    static func setTimes(_ path: String, _ seconds: Int) -> Bool {
        (try? FileSystem.setModificationTime(path, seconds: Int64(seconds))) != nil
    }

    @Test("symlinks, a hard link, a FIFO, a socket, a folder and a long or non-UTF-8 name are refused and left; the rest is delivered")
    func refusesWhatIsNotASpoolFile() async throws {
        let ws = try TestWorkspace()
        try ws.drop("good.ndjson", [Self.event])
        let incoming = ws.spool + "/incoming"
        let secret = try Self.secretOutside(ws)
        #expect(symlink(secret, "\(incoming)/link-out.ndjson") == 0)
        let fifoTarget = ws.root + "/fifo"
        #expect(mkfifo(fifoTarget, 0o600) == 0)
        #expect(symlink(fifoTarget, "\(incoming)/link-fifo.ndjson") == 0)
        #expect(link(secret, "\(incoming)/hardlink.ndjson") == 0)
        #expect(mkfifo("\(incoming)/fifo.ndjson", 0o600) == 0)
        let socketFD = try Self.bindSocket("\(incoming)/sock.ndjson")
        defer { close(socketFD) }
        #expect(mkdir("\(incoming)/folder.ndjson", 0o700) == 0)
        let long = String(repeating: "n", count: 240) + ".ndjson"
        try Data((Self.event + "\n").utf8).write(to: URL(fileURLWithPath: "\(incoming)/\(long)"))
        // A name with bytes that are not UTF-8 (0xFF), made through the raw bytes.
        let badName = Array("\(incoming)/bad-".utf8) + [0xFF, 0xFE] + Array(".ndjson".utf8) + [0]
        let badFD = badName.withUnsafeBufferPointer { open(UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), O_WRONLY | O_CREAT, 0o600) }
        #expect(badFD >= 0)
        _ = FileSystem.writeAll(badFD, Array((Self.event + "\n").utf8))
        close(badFD)
        let refused = ["link-out.ndjson", "link-fifo.ndjson", "hardlink.ndjson", "fifo.ndjson", "sock.ndjson", "folder.ndjson", long]

        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            // Twice: a refused name never wedges a later run either.
            for round in 1...2 {
                let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
                #expect(outcome.exitStatus == .failures, "round \(round)")
                let errors = outcome.report.errors.joined(separator: "\n")
                for name in refused {
                    #expect(errors.contains("refused incoming/\(name):"), "round \(round): \(name) not reported in \(errors)")
                }
                #expect(errors.contains("refused incoming/bad-\u{FFFD}\u{FFFD}.ndjson: a name that is not UTF-8"))
                #expect(errors.contains("a symbolic link (never followed)") && errors.contains("a FIFO") && errors.contains("a socket"))
                #expect(errors.contains("a folder") && errors.contains("2 hard links") && errors.contains("a name of 247 bytes"))
                #expect(ws.files("processing").isEmpty, "round \(round)")
            }
            let bodies = receiver.requests.map(\.text)
            #expect(bodies.count == 1)
            #expect(!bodies.joined().contains("do-not-send"))
        }
        #expect(ws.files("done") == ["good.ndjson"])
        // Every refused name is where its producer left it, and the linked file is untouched.
        let left = Set(ws.files("incoming"))
        for name in refused { #expect(left.contains(name)) }
        #expect(try String(contentsOfFile: secret, encoding: .utf8).contains("do-not-send"))
        #expect(ws.files("failed").isEmpty)
    }

    @Test("a file swapped for a symlink or a FIFO between the listing and the claim is refused, and nothing outside moves")
    func swapBetweenListingAndClaim() throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        let secret = try Self.secretOutside(ws)
        try ws.drop("a.ndjson", [Self.event])
        try ws.drop("b.ndjson", [Self.event])
        let ready = try spool.readyFiles().ready
        #expect(ready.map(\.name).sorted() == ["a.ndjson", "b.ndjson"])
        // The producer swaps both: a symlink renamed over a, a FIFO over b.
        #expect(symlink(secret, "\(spool.incoming)/.swap-a") == 0 && rename("\(spool.incoming)/.swap-a", "\(spool.incoming)/a.ndjson") == 0)
        #expect(mkfifo("\(spool.incoming)/.swap-b", 0o600) == 0 && rename("\(spool.incoming)/.swap-b", "\(spool.incoming)/b.ndjson") == 0)
        var reasons: [String: SpoolRefusal] = [:]
        for entry in ready {
            guard case .refused(let reason) = try spool.claim(entry) else {
                Issue.record("\(entry.name) was claimed after the swap")
                continue
            }
            reasons[entry.name] = reason
        }
        #expect(reasons == ["a.ndjson": .symbolicLink, "b.ndjson": .fifo])
        #expect(ws.files("processing").isEmpty)
        #expect(FileManager.default.fileExists(atPath: secret))
    }

    @Test("a file swapped for a FIFO during a real run does not hang it; the others are delivered")
    func swapDuringRun() async throws {
        let ws = try TestWorkspace()
        for n in 1...40 { try ws.drop(String(format: "f%02d.ndjson", n), [Self.event.replacingOccurrences(of: "evt_ok", with: "evt_\(n)")]) }
        let swapped = Mutex(false)
        let incoming = ws.spool + "/incoming"
        try await LoopbackReceiver.run(handler: { _ in
            // At the first delivery the run has listed incoming/: swap every file still there.
            let first = swapped.withLock { done in defer { done = true }; return !done }
            if first, let names = try? FileManager.default.contentsOfDirectory(atPath: incoming) {
                for name in names where !name.hasPrefix(".") {
                    // Only where the file was still there: a claimed one is delivered, not swapped.
                    if unlink("\(incoming)/\(name)") == 0 { mkfifo("\(incoming)/\(name)", 0o600) }
                }
            }
            return .ok
        }) { receiver in
            let config = testConfig(endpoints: testEndpoint(port: receiver.port), concurrency: 1)
            let outcome = try await ws.run(config)
            let fifos = ws.files("incoming").count
            #expect(receiver.requests.count + fifos == 40, "every file was delivered or is a FIFO left in incoming/")
            // A swap the claim saw is refused at once; one made while the claim ran is a file its
            // producer took back, and the FIFO is refused by the next run. Never an I/O error.
            #expect(outcome.exitStatus != .ioError)
            #expect(outcome.report.errors.filter { $0.contains(": a FIFO;") }.count <= fifos)
            let next = try await ws.run(config)
            #expect(next.report.errors.filter { $0.contains(": a FIFO;") }.count == fifos)
            #expect(fifos == 0 || next.exitStatus == .failures)
        }
        #expect(ws.files("processing").isEmpty)
    }

    @Test("a file that keeps growing after its claim is read up to the size it had")
    func readsAtMostTheClaimedSize() throws {
        let ws = try TestWorkspace()
        let spool = Spool(root: ws.spool)
        try spool.prepare()
        try ws.drop("grow.ndjson", ["{\"type\":\"a\"}", "{\"type\":\"b\"}"])
        let entry = try #require(try spool.readyFiles().ready.first)
        guard case .claimed(let claimed) = try spool.claim(entry) else {
            Issue.record("not claimed")
            return
        }
        defer { claimed.release() }
        // The producer kept a descriptor and writes on.
        let fd = open(claimed.path, O_WRONLY | O_APPEND)
        #expect(fd >= 0)
        _ = FileSystem.writeAll(fd, Array("{\"type\":\"c\"}\n".utf8))
        close(fd)
        let reader = LineReader(descriptor: claimed.descriptor, path: claimed.path, maxLineBytes: 1 << 20, limit: claimed.size)
        var lines = 0
        while try reader.next({ _ in true }) != nil { lines += 1 }
        #expect(lines == 2)
    }

    @Test("a producer's lock on its file does not hide the file from the run")
    func producerLockDoesNotHide() async throws {
        let ws = try TestWorkspace()
        try ws.drop("locked.ndjson", [Self.event])
        // Another process's lock: an open file description of its own, read-only, flocked.
        let fd = open(ws.spool + "/incoming/locked.ndjson", O_RDONLY)
        #expect(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
        defer { close(fd) }
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(outcome.exitStatus == .ok)
            #expect(receiver.requests.count == 1)
        }
        #expect(ws.files("done") == ["locked.ndjson"])
    }

    @Test("a name that starts with a combining mark: its helpers are still hidden, so a deferred file comes back whole and once")
    func combiningMarkName() async throws {
        let ws = try TestWorkspace()
        // "\u{301}x": in ".\u{301}x.ndjson.journal" the dot and the mark are one Character, not ".".
        let name = "\u{301}x.ndjson"
        try ws.drop(name, [Self.event])
        let calls = Mutex(0)
        try await LoopbackReceiver.run(handler: { _ in
            calls.withLock { $0 += 1; return $0 } == 1 ? ReceiverReply(status: 503) : .ok
        }) { receiver in
            let config = testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 1, retryFor: "1h")
            let first = try await ws.run(config)
            #expect(first.exitStatus == .tempFail)
            #expect(ws.files("deferred") == [name])
            _ = try Spool(root: ws.spool).makeDeferredDue()
            let second = try await ws.run(config)
            #expect(second.exitStatus == .ok)
            #expect(second.report.totals.files == 1, "the journal was taken for a spool file")
            #expect(receiver.requests.count == 2)
        }
        #expect(ws.files("done") == [name] && ws.files("failed").isEmpty && ws.files("deferred").isEmpty)
    }

    @Test("a sparse file of a terabyte is refused at once, not read; the others are delivered")
    func hugeSparseFile() async throws {
        let ws = try TestWorkspace()
        try ws.drop("huge.ndjson", [Self.event])
        try ws.drop("good.ndjson", [Self.event.replacingOccurrences(of: "evt_ok", with: "evt_2")])
        #expect(truncate(ws.spool + "/incoming/huge.ndjson", 1 << 40) == 0)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(outcome.exitStatus == .failures)
            #expect(outcome.report.errors.contains { $0.contains("huge.ndjson: a file of 1099511627776 bytes (limits.max_file_bytes is 4294967296)") })
            #expect(receiver.requests.count == 1)
        }
        #expect(ws.files("incoming") == ["huge.ndjson"])
    }

    @Test("a file the service may not read is refused (exit 1), not an I/O error (74)", .enabled(if: geteuid() != 0, "root reads any file"))
    func unreadableFile() async throws {
        let ws = try TestWorkspace()
        try ws.drop("private.ndjson", [Self.event])
        try ws.drop("good.ndjson", [Self.event.replacingOccurrences(of: "evt_ok", with: "evt_2")])
        #expect(chmod(ws.spool + "/incoming/private.ndjson", 0) == 0)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(outcome.exitStatus == .failures)
            #expect(outcome.report.errors.contains { $0.contains("private.ndjson: not readable by the service") })
            #expect(receiver.requests.count == 1)
        }
        #expect(ws.files("incoming") == ["private.ndjson"])
    }

    @Test("times a producer's file system accepts, however absurd, never crash a run")
    func absurdFileTimes() async throws {
        // The formatter itself, at the edges of what a time_t holds.
        // 67,768,036,191,676,799 is the last second gmtime can express (year 2,147,485,547): its
        // tm_year + 1900 overflowed an Int32 and trapped, wedging every later run.
        for seconds in [Int.max, Int.min, 67_768_036_191_676_799, Int(Int32.max) * 1_000_000, -1, 0] {
            let text = RFC3339.format(secondsSince1970: seconds, milliseconds: 999)
            #expect(text.count == 24, "\(seconds) → \(text)")
        }
        #expect(RFC3339.format(secondsSince1970: Int.max) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(secondsSince1970: Int.min) == "0000-01-01T00:00:00Z")

        let ws = try TestWorkspace(in: Self.anyTimeFolder)
        let times: [Int] = [67_768_036_191_676_799, Int(Int64.max / 2), 1 << 40, -(1 << 40), 0]
        for (n, _) in times.enumerated() { try ws.drop("t\(n).ndjson", [#"{"type":"t"}"#]) }
        var accepted = 0
        for (n, seconds) in times.enumerated() {
            // Each file system takes what it can; a tmpfs takes any 64-bit time.
            if Self.setTimes("\(ws.spool)/incoming/t\(n).ndjson", seconds) { accepted += 1 }
        }
        #expect(accepted >= 1)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port)))
            #expect(outcome.exitStatus == .ok)
            #expect(receiver.requests.count == times.count)
            for request in receiver.requests {
                let object = try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any]
                #expect(RFC3339.isValid(object?["timestamp"] as? String ?? ""), "\(request.text)")
            }
        }
        #expect(ws.files("processing").isEmpty && ws.files("done").count == times.count)
    }

    @Test("fuzz: random bytes, long lines, odd names and extreme times through a real run", arguments: [1, 2, 3])
    func fuzz(seed: UInt64) async throws {
        var random = SeededGenerator(seed: seed)
        // On a tmpfs where there is one: it takes any file time, as a producer's tmpfs would.
        let ws = try TestWorkspace(in: Self.anyTimeFolder)
        let incoming = ws.spool + "/incoming"
        try FileManager.default.createDirectory(atPath: incoming, withIntermediateDirectories: true)
        let oddStems = ["a b", "quote\"d", "back\\slash", "日本語", "emoji-🚀", "-dash", "%s%n", "<script>", "tab\tname", "nl\nname", "=", "\u{301}mark", "\u{200D}zwj", String(repeating: "x", count: 180)]
        var valid = 0
        var names: [String] = []
        for n in 0..<24 {
            let stem = oddStems[n % oddStems.count] + "-\(n)"
            let name = stem + (n % 2 == 0 ? ".ndjson" : ".jsonl")
            var bytes: [UInt8] = []
            for line in 0..<Int.random(in: 1...12, using: &random) {
                switch Int.random(in: 0..<6, using: &random) {
                case 0:
                    // Random bytes, led by 0xFF so the line is never UTF-8 (and so never valid).
                    bytes += [0xFF] + (0..<Int.random(in: 0...300, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }.filter { $0 != 0x0A }
                case 1:
                    // Longer than limits.max_event_bytes (64 KiB here).
                    bytes += Array(#"{"type":"t","data":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array(#""}"#.utf8)
                case 2:
                    bytes += Array(#"{"type":"t","id":"evt_\#(seed)_\#(n)_\#(line)","data":{"s":"\u0000\u2028\"🚀"}}"#.utf8)
                    valid += 1
                case 3:
                    bytes += Array(#"{"type":"t","timestamp":"9999-12-31T23:59:59Z","data":[1e308,-1e308,123456789012345678901234567890]}"#.utf8)
                    valid += 1
                case 4:
                    bytes += Array(#"{"type":"t\r\nX-Injected: 1","data":{}}"#.utf8)
                default:
                    bytes += Array("   \r".utf8)
                }
                bytes.append(0x0A)
            }
            let path = "\(incoming)/\(name)"
            #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
            let seconds = [67_768_036_191_676_799, Int(Int64.max / 4), -(1 << 36), 0, Int(Date().timeIntervalSince1970) + 86_400 * 365 * 1000][n % 5]
            _ = Self.setTimes(path, seconds)
            names.append(name)
        }
        let expected = valid
        let written = names
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = testConfig(endpoints: testEndpoint(port: receiver.port), extra: "limits:\n  max_event_bytes: 64KiB")
            let outcome = try await ws.run(config)
            #expect([.ok, .failures].contains(outcome.exitStatus))
            #expect(receiver.requests.count == expected, "every valid line delivered once")
            #expect(!receiver.requests.contains { $0.header("X-Injected") != nil })
            #expect(ws.files("processing").isEmpty && ws.files("incoming").isEmpty)
            #expect(Set(ws.files("done") + ws.files("failed").filter { !$0.contains(".failures.") }) == Set(written))
            #expect(outcome.reportFiles != nil, "the report was written")
            let again = try await ws.run(config)
            #expect(again.exitStatus == .ok && again.report.totals.files == 0)
        }
    }

    @Test("every refusal has its own words; devices and other types are told apart by their mode")
    func refusalWords() {
        #expect(SpoolRefusal.forType(S_IFREG | 0o644) == nil)
        #expect(SpoolRefusal.forType(S_IFCHR | 0o666) == .device)
        #expect(SpoolRefusal.forType(S_IFBLK | 0o660) == .device)
        #expect(SpoolRefusal.forType(S_IFLNK | 0o777) == .symbolicLink)
        let all: [SpoolRefusal] = [.symbolicLink, .fifo, .socket, .device, .folder, .otherType, .hardLinked(links: 2), .unreadable, .leased, .tooLarge(bytes: 10, limit: 5), .nameNotUTF8, .nameTooLong(bytes: 300)]
        #expect(Set(all.map(\.description)).count == all.count)
    }
}

