#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

/// Whether `python3` can import the receivers' packages; checked once per test process.
enum PythonEnvironment {
    enum Status: Sendable {
        case ready(versions: String)
        case missing(reason: String)
    }

    static let receiversDirectory: String = URL(fileURLWithPath: ReportTools.packageRoot)
        .appendingPathComponent("examples/receivers").path

    static let installHint = "python3 -m pip install -r examples/receivers/requirements.txt"

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" }

    static let status = Task<Status, Never> {
        let exit: ChildProcess.Exit
        do {
            exit = try await ChildProcess.run("/usr/bin/env", [
                "python3", "-c",
                "import standardwebhooks, stripe, cryptography, importlib.metadata as m; "
                    + "print('standardwebhooks', m.version('standardwebhooks'), 'stripe', stripe.VERSION)",
            ])
        } catch {
            return .missing(reason: "cannot start python3: \(error)")
        }
        let trimmed = exit.output.trimmingCharacters(in: .whitespacesAndNewlines)
        return exit.status == 0
            ? .ready(versions: trimmed)
            : .missing(reason: "python3 exited \(exit.status): \(trimmed.split(separator: "\n").last ?? "")")
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
            let message = "The interoperability tests need python3 with the standardwebhooks, stripe and cryptography packages (\(reason)). Install them with: \(installHint)\(isCI ? " (CI=true: this is required, not skipped)" : "")"
            throw TestFailure(message)
        }
    }
}

/// One example receiver (`examples/receivers/`) running as a child process (`ChildProcess.start`),
/// listening on a port of its own choosing. `kill()` in a `defer` guarantees the process does not
/// outlive the test; `stop()` ends it with SIGTERM and returns its counts.
final class PythonReceiver: Sendable {
    let outPath: String
    /// The port from its `listening on` line.
    let port: Int
    private let child: ChildProcess

    private init(outPath: String, port: Int, child: ChildProcess) {
        self.outPath = outPath
        self.port = port
        self.child = child
    }

    /// Starts `python3 script --port 0 arguments…` with `environment` added to the test process's,
    /// and waits for its first stdout line, `listening on 127.0.0.1:PORT`.
    static func start(script: String, arguments: [String], environment: [String: String], outPath: String) async throws -> PythonReceiver {
        let child = try await ChildProcess.start(
            "/usr/bin/env",
            ["python3", script, "--port", "0"] + arguments,
            environment: environment.merging([
                "PYTHONDONTWRITEBYTECODE": "1",  // no __pycache__ in examples/receivers
                "PYTHONUTF8": "1",
            ]) { $1 }
        )
        let port = try await ReceiveProcess.listeningPort(of: child)
        return PythonReceiver(outPath: outPath, port: port, child: child)
    }

    deinit { kill() }

    /// The receiver's stderr so far (a line per request), for failure messages.
    func log() -> String {
        "--- stderr of \(child.command)\n\(child.stderr.suffix(4000))"
    }

    func outLines() throws -> [String] {
        guard FileManager.default.fileExists(atPath: outPath) else { return [] }
        return try String(contentsOfFile: outPath, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Waits until `--out` holds at least `count` lines (the receiver fsyncs before answering 200,
    /// so after a delivered run they are already there; the wait only guards against surprises).
    /// Checked again at each line the receiver logs, which it does after answering each request.
    func waitForOutLines(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [String] {
        try await child.waitFor("\(count) lines in \(outPath)", timeout: timeout) { try self.outLines().count >= count }
        return try outLines()
    }

    /// SIGTERM, then the `counts: key=value …` line the receiver prints as it exits.
    func stop(timeout: Duration = .seconds(10)) async throws -> [String: Int] {
        defer { kill() }
        let exit = try await child.stop(signal: SIGTERM, timeout: timeout)
        #expect(exit.exitedNormally && exit.status == 0, "receiver exit: \(exit.status)\n\(log())")
        guard let counts = ReceiveProcess.counts(exit.stdout) else {
            throw TestFailure("the receiver printed no counts on SIGTERM:\n\(exit.stdout)\n\(log())")
        }
        return counts
    }

    /// SIGKILL if still running; safe to call any number of times.
    func kill() {
        child.kill()
    }
}
