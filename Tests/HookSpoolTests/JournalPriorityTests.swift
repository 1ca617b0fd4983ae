import Foundation
import HookSpoolReceiver
import Logging
import Testing
@testable import HookSpool

/// Syslog priorities on log lines: when standard error is the journal (`JOURNAL_STREAM`), or with
/// `--log-priority` for `logger --prio-prefix`; read from what the real binary writes.
@Suite("Log priorities for journald and syslog")
struct JournalPriorityTests {
    @Test("each level's prefix is its syslog priority")
    func prefixes() {
        let levels: [Logger.Level] = [.trace, .debug, .info, .notice, .warning, .error, .critical]
        #expect(levels.map(JournalStream.prefix) == ["<7>", "<7>", "<6>", "<5>", "<4>", "<3>", "<2>"])
    }

    /// Runs the binary against an endpoint answering 410 (an error line, "ENDPOINT DISABLED"),
    /// standard error appended to a file; `journal` sets JOURNAL_STREAM to that file's device and inode.
    static func stderrLines(journal: Bool, wrongInode: Bool = false, flag: Bool = false) async throws -> [String] {
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"t"}"#])
        let log = ws.root + "/stderr.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        var info = stat()
        #expect(stat(log, &info) == 0)
        let stream = "\(info.st_dev):\(wrongInode ? info.st_ino + 1 : info.st_ino)"
        return try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 410) }) { receiver in
            let config = try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 1))
            var environment = ["HOOKSPOOL_STDERR_FILE": log]
            if journal { environment["JOURNAL_STREAM"] = stream }
            let exit = try await ChildProcess.run(
                "/bin/sh", ["-c", #"exec "$0" "$@" 2>>"$HOOKSPOOL_STDERR_FILE""#, HookSpoolBinary.path, "run", "--config", config] + (flag ? ["--log-priority"] : []),
                in: ws.root, environment: environment
            )
            #expect(exit.status == 1, "\(exit.output)")
            return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        }
    }

    @Test("with JOURNAL_STREAM naming standard error, every line starts with its priority: <3> for ENDPOINT DISABLED, <5> for the run's summary")
    func journal() async throws {
        let lines = try await Self.stderrLines(journal: true)
        #expect(!lines.isEmpty)
        #expect(lines.allSatisfy { $0.hasPrefix("<") && $0.dropFirst(2).hasPrefix(">time=") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<3>") && $0.contains("ENDPOINT DISABLED") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<5>") && $0.contains("run finished") }, "\(lines)")
    }

    @Test("JOURNAL_STREAM naming another file (inherited, standard error redirected): no prefix; --log-priority: the prefix without it")
    func elsewhere() async throws {
        let inherited = try await Self.stderrLines(journal: true, wrongInode: true)
        #expect(!inherited.isEmpty && inherited.allSatisfy { $0.hasPrefix("time=") }, "\(inherited)")
        let flagged = try await Self.stderrLines(journal: false, flag: true)
        #expect(flagged.contains { $0.hasPrefix("<3>") && $0.contains("ENDPOINT DISABLED") }, "\(flagged)")
    }
}
