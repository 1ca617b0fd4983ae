#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization
import Testing
@testable import HookSpool

/// Real batches delivered to the Python receivers in `examples/receivers/`, which verify every
/// scheme with code nobody on this project wrote: the official `standardwebhooks` package, the
/// Python standard library, and the `stripe` package's own verifier.
///
/// Needs `python3` on PATH with `python3 -m pip install -r examples/receivers/requirements.txt`
/// (`.ci/run` does it). Without the packages the tests fail when `CI=true`, and are skipped, with
/// that command in the skip message, on a developer machine.
@Suite("Interop: Python receivers verify hookspool's deliveries")
struct InteropTests {
    /// One scheme: the receiver to start and the secrets on both sides.
    struct Case: Sendable, CustomTestStringConvertible {
        var scheme: String
        var script: String
        var scriptArguments: [String]
        /// What hookspool signs with, in config order.
        var endpointSecrets: [String]
        /// One receiver per entry, each knowing only these secrets: with rotated secrets every
        /// signature hookspool sends must verify on its own.
        var receiverSecrets: [[String]]
        /// A secret no receiver knows, for the negative control.
        var wrongSecret: String
        /// The third-party verifier named in the receiver's counts; each delivery must pass it.
        var verifierCount: String

        var testDescription: String { scheme }
    }

    static let cases: [Case] = [
        Case(
            scheme: "standard",
            script: "standard_receiver.py",
            scriptArguments: [],
            endpointSecrets: ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
            receiverSecrets: [["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"], ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]],
            wrongSecret: "whsec_3q2+796tvu/erb7v3q2+796tvu/e",
            verifierCount: "standardwebhooks"
        ),
        Case(
            scheme: "hmac-sha256",
            script: "stdlib_receiver.py",
            scriptArguments: ["--scheme", "hmac-sha256"],
            // Two secrets: hmac-sha256 has room for one signature, made with the first.
            endpointSecrets: ["new secret – ünïcode key", "old-secret"],
            receiverSecrets: [["new secret – ünïcode key"]],
            wrongSecret: "not the secret",
            verifierCount: "stdlib"
        ),
        Case(
            scheme: "github",
            script: "stdlib_receiver.py",
            scriptArguments: ["--scheme", "github"],
            endpointSecrets: ["It's a Secret to Everybody", "old-secret"],
            receiverSecrets: [["It's a Secret to Everybody"]],
            wrongSecret: "It's a Secret to Nobody",
            verifierCount: "stdlib"
        ),
        Case(
            scheme: "stripe",
            script: "stdlib_receiver.py",
            // Every delivery must pass both the standard library check and the stripe package's.
            scriptArguments: ["--scheme", "stripe", "--stripe-package", "require"],
            // Stripe keys are the secret's UTF-8 bytes, `whsec_` included.
            endpointSecrets: ["whsec_stripe_style_new_1a2b3c", "whsec_stripe_style_old_4d5e6f"],
            receiverSecrets: [["whsec_stripe_style_new_1a2b3c"], ["whsec_stripe_style_old_4d5e6f"]],
            wrongSecret: "whsec_stripe_style_wrong_000000",
            verifierCount: "stripe_package"
        ),
    ]

    /// Events that exercise the body bytes: verbatim lines with odd spacing, lines hookspool
    /// completes (no timestamp, no data), non-ASCII text, escapes, extra fields, a large body.
    static let events: [(id: String, line: String)] = {
        let big = String(repeating: "0123456789abcdef", count: 2048)
        let lines = [
            #"{"id":"evt_interop_01","type":"order.created","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":1}}"#,
            #"{"id":"evt_interop_02","type":"order.paid","timestamp":"2026-01-01T00:00:01Z","data":{"order_id":2,"amount":"12.50"}}"#,
            #"{ "id" : "evt_interop_03", "type": "order.paid",  "timestamp": "2026-01-01T00:00:02Z", "data": { "spaced": true } }"#,
            #"{"id":"evt_interop_04","type":"user.signup","data":{"name":"Zoë 🚀 — ünïcode, 日本語"}}"#,
            #"{"id":"evt_interop_05","type":"user.signup","timestamp":"2026-01-01T00:00:04Z","data":{"escaped":"caf\u00e9 \"quoted\" \\ back\/slash \n newline"}}"#,
            #"{"id":"evt_interop_06","type":"invoice.created","extra":[1,2.5,{"k":null}],"note":"no data, no timestamp"}"#,
            #"{"id":"evt_interop_07","type":"invoice.created","timestamp":"2026-01-01T00:00:06Z","data":{"blob":"\#(big)"}}"#,
            #"{"id":"evt_interop_08","type":"order.created","timestamp":"2026-01-01T00:00:07Z","data":null}"#,
            #"{"id":"evt_interop_09","type":"order.created","timestamp":"2026-01-01T00:00:08Z","data":[]}"#,
            #"{"id":"evt_interop_10","type":"a.b.c","timestamp":"2026-01-01T00:00:09Z","data":{"nested":{"deep":[{"x":1}]}}}"#,
            #"{"id":"evt_interop_11","type":"order.refunded","timestamp":"2026-01-01T00:00:10Z","data":{"emoji":"\ud83d\ude80"}}"#,
            #"{"id":"evt_interop_12","type":"webhook.test","timestamp":"2026-01-01T00:00:11Z","data":{}}"#,
        ]
        return lines.enumerated().map { index, line in (String(format: "evt_interop_%02d", index + 1), line) }
    }()

    @Test(
        "every delivery verifies with a third-party implementation",
        .enabled("python3 with standardwebhooks and stripe: python3 -m pip install -r examples/receivers/requirements.txt") {
            await PythonEnvironment.shouldRun
        },
        .timeLimit(.minutes(2)),
        arguments: cases
    )
    func interop(_ scheme: Case) async throws {
        try await PythonEnvironment.require()
        let ws = try TestWorkspace()
        var started: [PythonReceiver] = []
        defer { started.forEach { $0.kill() } }
        for (index, secrets) in scheme.receiverSecrets.enumerated() {
            // Secrets reach the receiver through env: references, not argv.
            var environment: [String: String] = [:]
            var arguments = scheme.scriptArguments + ["--out", "\(ws.root)/received-\(index).ndjson"]
            for (n, secret) in secrets.enumerated() {
                environment["INTEROP_SECRET_\(n)"] = secret
                arguments += ["--secret", "env:INTEROP_SECRET_\(n)"]
            }
            started.append(try PythonReceiver(
                script: PythonEnvironment.receiversDirectory + "/" + scheme.script,
                arguments: arguments,
                environment: environment,
                outPath: "\(ws.root)/received-\(index).ndjson",
                logPath: "\(ws.root)/receiver-\(index).log"
            ))
        }
        let receivers = started
        for receiver in receivers { try await receiver.waitUntilListening() }

        func config(secrets: [String]) -> String {
            let list = "[" + secrets.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            return testConfig(
                endpoints: receivers.enumerated().map { index, receiver in
                    testEndpoint(name: "python-\(index)", port: receiver.port, secret: list, signature: scheme.scheme)
                }.joined(separator: "\n"),
                timeout: "10s"
            )
        }

        // The real batch: every event to every receiver, signed with every secret the scheme carries.
        try ws.drop("interop.ndjson", Self.events.map(\.line))
        let outcome = try await ws.run(config(secrets: scheme.endpointSecrets))
        let n = Self.events.count
        let logs = { receivers.map { $0.log() }.joined(separator: "\n") }
        #expect(outcome.exitStatus == .ok, "\(outcome.report.failures)\n\(logs())")
        #expect(outcome.report.totals.events == n)
        #expect(outcome.report.totals.deliveries == n * receivers.count)
        #expect(outcome.report.totals.delivered == n * receivers.count, "\(outcome.report.failures)\n\(logs())")
        #expect(outcome.report.totals.failed == 0)
        for endpoint in outcome.report.endpoints {
            #expect(endpoint.statusCodes["401"] == nil, "\(endpoint.name) answered 401: \(logs())")
            #expect(endpoint.statusCodes["200"] == n, "\(endpoint.name): \(endpoint.statusCodes)")
        }
        #expect(ws.files("done") == ["interop.ndjson"])

        let expectedIDs = Self.events.map(\.id).sorted()
        for receiver in receivers {
            let lines = try await receiver.waitForOutLines(n)
            let ids = lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
            }
            #expect(ids.sorted() == expectedIDs, "every event id exactly once in \(receiver.outPath)")
        }

        // Negative control: a receiver that accepted everything would pass the above. Signed
        // with a secret it does not know, a delivery is answered 401 and not stored.
        try ws.drop("forged.ndjson", [#"{"id":"evt_forged","type":"order.created","data":{}}"#])
        let forged = try await ws.run(config(secrets: [scheme.wrongSecret]))
        #expect(forged.exitStatus == .failures)
        #expect(forged.report.totals.failed == receivers.count)
        for endpoint in forged.report.endpoints {
            #expect(endpoint.statusCodes == ["401": 1], "\(endpoint.name): \(endpoint.statusCodes)")
        }

        for receiver in receivers {
            let counts = try await receiver.stop()
            #expect(counts["verified"] == n, "\(counts)")
            #expect(counts[scheme.verifierCount] == n, "each delivery passed \(scheme.verifierCount): \(counts)")
            #expect(counts["duplicates"] == 0, "\(counts)")
            #expect(counts["rejected"] == 1, "\(counts)")
            #expect(counts["invalid"] == 0, "\(counts)")
            #expect(try receiver.outLines().count == n, "the forged delivery was not stored")
        }
    }
}

/// Whether `python3` can import the receivers' packages; checked once per test process.
enum PythonEnvironment {
    enum Status: Sendable {
        case ready(versions: String)
        case missing(reason: String)
    }

    static let receiversDirectory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/receivers").path

    static let installHint = "python3 -m pip install -r examples/receivers/requirements.txt"

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" }

    static let status = Task<Status, Never> {
        await withCheckedContinuation { continuation in
            // A blocking child process: on a thread of its own (BlockingThread), never on the cooperative pool.
            BlockingThread.detach {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = [
                    "python3", "-c",
                    "import standardwebhooks, stripe, importlib.metadata as m; "
                        + "print('standardwebhooks', m.version('standardwebhooks'), 'stripe', stripe.VERSION)",
                ]
                let output = Pipe()
                process.standardOutput = output
                process.standardError = output
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(returning: .missing(reason: "cannot start python3: \(error)"))
                    return
                }
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                continuation.resume(returning: process.terminationStatus == 0
                    ? .ready(versions: trimmed)
                    : .missing(reason: "python3 exited \(process.terminationStatus): \(trimmed.split(separator: "\n").last ?? "")"))
            }
        }
    }

    /// Run when the packages are there, and always under CI, where their absence must fail.
    static var shouldRun: Bool {
        get async {
            if case .ready = await status.value { return true }
            return isCI
        }
    }

    /// Throws, saying how to install the packages, if they are missing.
    static func require() async throws {
        switch await status.value {
        case .ready:
            return
        case .missing(let reason):
            let message = "The interoperability tests need python3 with the standardwebhooks and stripe packages (\(reason)). Install them with: \(installHint)\(isCI ? " (CI=true: this is required, not skipped)" : "")"
            throw TestFailure(message)
        }
    }
}

/// One example receiver running as a child process. Its stdout is drained on a Dispatch thread
/// (so the pipe never fills), its stderr goes to a log file; `kill()` in a `defer` guarantees the
/// process does not outlive the test, `stop()` ends it with SIGTERM and returns its counts.
final class PythonReceiver: @unchecked Sendable {
    let outPath: String
    let logPath: String
    private let process = Process()
    private let output = OutputBuffer()
    private let listeningPort = Mutex(0)

    init(script: String, arguments: [String], environment: [String: String], outPath: String, logPath: String) throws {
        self.outPath = outPath
        self.logPath = logPath
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--port", "0"] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment.merging([
            "PYTHONDONTWRITEBYTECODE": "1",  // no __pycache__ in examples/receivers
            "PYTHONUTF8": "1",
        ]) { $1 }) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        guard FileManager.default.createFile(atPath: logPath, contents: nil),
              let log = FileHandle(forWritingAtPath: logPath)
        else { throw TestFailure("cannot create \(logPath)") }
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? log.close()
        let reader = pipe.fileHandleForReading
        BlockingThread.detach { [output] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                output.data.withLock { $0.append(chunk) }
            }
            output.closed.withLock { $0 = true }
        }
    }

    deinit { kill() }

    var port: Int { listeningPort.withLock { $0 } }

    var stdoutText: String { String(decoding: output.data.withLock { $0 }, as: UTF8.self) }

    /// The receiver's stderr so far, for failure messages.
    func log() -> String {
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        return "--- \(logPath)\n\(text.suffix(4000))"
    }

    /// Waits for the first stdout line, `listening on 127.0.0.1:PORT`.
    func waitUntilListening(deadline: Duration = .seconds(30)) async throws {
        try await waitFor("the receiver to print `listening on 127.0.0.1:PORT`", deadline: deadline) {
            let text = self.stdoutText
            guard let newline = text.firstIndex(of: "\n") else { return false }
            let first = text[..<newline]
            guard first.hasPrefix("listening on 127.0.0.1:"), let port = Int(first.split(separator: ":").last ?? "") else {
                throw TestFailure("unexpected first line from the receiver: \(first)\n\(self.log())")
            }
            self.listeningPort.withLock { $0 = port }
            return true
        }
    }

    func outLines() throws -> [String] {
        guard FileManager.default.fileExists(atPath: outPath) else { return [] }
        return try String(contentsOfFile: outPath, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Waits until `--out` holds at least `count` lines (the receiver fsyncs before answering 200,
    /// so after a delivered run they are already there; the wait only guards against surprises).
    func waitForOutLines(_ count: Int, deadline: Duration = .seconds(10)) async throws -> [String] {
        try await waitFor("\(count) lines in \(outPath)", deadline: deadline) { try self.outLines().count >= count }
        return try outLines()
    }

    /// SIGTERM, then the `counts: key=value …` line the receiver prints as it exits.
    func stop(deadline: Duration = .seconds(10)) async throws -> [String: Int] {
        if process.isRunning { process.terminate() }
        defer { kill() }
        try await waitFor("the receiver to exit on SIGTERM", deadline: deadline, failIfExited: false) {
            !self.process.isRunning && self.output.closed.withLock { $0 }
        }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "receiver exit: \(process.terminationStatus)\n\(log())")
        guard let line = stdoutText.split(separator: "\n").last(where: { $0.hasPrefix("counts: ") }) else {
            throw TestFailure("the receiver printed no counts on SIGTERM:\n\(stdoutText)\n\(log())")
        }
        var counts: [String: Int] = [:]
        for pair in line.dropFirst("counts: ".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { counts[String(parts[0])] = value }
        }
        return counts
    }

    /// SIGKILL if still running; safe to call any number of times.
    func kill() {
        if process.isRunning { sendSignal(process.processIdentifier, SIGKILL) }
    }

    /// Polls `condition` until it holds, failing with `what` and the receiver's log at the deadline
    /// or if the receiver exits first.
    private func waitFor(_ what: String, deadline: Duration, failIfExited: Bool = true, _ condition: () throws -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while true {
            if try condition() { return }
            if clock.now >= end {
                throw TestFailure("timed out after \(deadline) waiting for \(what)\nstdout: \(stdoutText)\n\(log())")
            }
            if failIfExited, !process.isRunning, output.closed.withLock({ $0 }), try !condition() {
                throw TestFailure("the receiver exited (\(process.terminationStatus)) while waiting for \(what)\nstdout: \(stdoutText)\n\(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A child's stdout as read so far, and whether it has ended.
final class OutputBuffer: Sendable {
    let data = Mutex(Data())
    let closed = Mutex(false)
}

/// `kill(2)`, outside `PythonReceiver`, whose own `kill()` would shadow it.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
