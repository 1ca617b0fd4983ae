#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import WebhookSignature

/// A real `hookspool receive` child process: started on port 0, its port read from its first stdout
/// line, its output drained on threads of its own (never the cooperative pool), stopped by a signal.
/// Call `kill()` in a `defer` so it never outlives the test, even when the test fails.
// @unchecked: `Process` is not Sendable; after `run()` only its thread-safe members are used
// (processIdentifier, isRunning, terminationStatus/Reason), and the output lives in Mutexes.
final class ReceiveProcess: @unchecked Sendable {
    /// What the process printed, and how many of its two output streams are still open.
    private final class Streams: Sendable {
        let stdout = Mutex(Data())
        let stderr = Mutex(Data())
        let open = Mutex(2)
    }

    /// How the process ended.
    struct Exit {
        var status: Int32
        var exitedNormally: Bool
        var stdout: String
        var stderr: String
    }

    private let process: Process
    private let streams: Streams
    private let boundPort = Mutex(0)

    private init(process: Process, streams: Streams) {
        self.process = process
        self.streams = streams
    }

    deinit { kill() }

    /// The port from the `listening on` line.
    var port: Int { boundPort.withLock { $0 } }
    var stdout: String { String(decoding: streams.stdout.withLock { $0 }, as: UTF8.self) }
    var stderr: String { String(decoding: streams.stderr.withLock { $0 }, as: UTF8.self) }

    /// Starts `hookspool receive --port 0 ARGUMENTS` in `directory` and waits for `listening on 127.0.0.1:PORT`.
    static func start(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> ReceiveProcess {
        let receiver = try await spawn(["receive", "--port", "0"] + arguments, in: directory, environment: environment)
        try await receiver.waitFor("`listening on 127.0.0.1:PORT`", timeout: .seconds(30)) {
            let text = receiver.stdout
            guard let newline = text.firstIndex(of: "\n") else { return false }
            let first = text[..<newline]
            guard first.hasPrefix("listening on 127.0.0.1:"), let port = Int(first.split(separator: ":").last ?? "") else {
                throw TestFailure("unexpected first line: \(first)")
            }
            receiver.boundPort.withLock { $0 = port }
            return true
        }
        return receiver
    }

    /// Runs `hookspool ARGUMENTS` to its exit, for commands that should stop by themselves; killed after `timeout`.
    ///
    /// Standard input is `stdin` through a file, not a pipe: a child that exits without reading it (a
    /// usage error) would otherwise make the write fail with SIGPIPE, which ends the whole test process.
    static func runToExit(
        _ arguments: [String],
        in directory: String,
        stdin: String = "",
        environment: [String: String] = [:],
        timeout: Duration = .seconds(30)
    ) async throws -> Exit {
        let inputPath = "\(directory)/.stdin-\(UUID().uuidString)"
        try Data(stdin.utf8).write(to: URL(fileURLWithPath: inputPath))
        defer { try? FileManager.default.removeItem(atPath: inputPath) }
        let input = try FileHandle(forReadingFrom: URL(fileURLWithPath: inputPath))
        defer { try? input.close() }
        let child = try await spawn(arguments, in: directory, environment: environment, stdin: input)
        defer { child.kill() }
        try await child.waitFor("hookspool \(arguments.joined(separator: " ")) to exit", timeout: timeout, failIfExited: false) {
            child.hasExited
        }
        return child.exit
    }

    /// Sends `signal` and waits for the process to exit and close its output.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async throws -> Exit {
        if process.isRunning { sendSignal(process.processIdentifier, signal) }
        try await waitFor("the receiver to exit on signal \(signal)", timeout: timeout, failIfExited: false) { hasExited }
        return exit
    }

    /// SIGKILL if still running; safe to call any number of times.
    func kill() {
        if process.isRunning { sendSignal(process.processIdentifier, SIGKILL) }
    }

    /// Polls `condition` until it holds; fails at the timeout, or as soon as the process has exited without it holding.
    func waitFor(
        _ what: String,
        timeout: Duration = .seconds(10),
        failIfExited: Bool = true,
        _ condition: () throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try condition() { return }
            if ContinuousClock.now >= deadline {
                throw TestFailure("timed out after \(timeout) waiting for \(what)\nstdout: \(stdout)\nstderr: \(stderr)")
            }
            if failIfExited, hasExited, try !condition() {
                throw TestFailure("the process exited (\(process.terminationStatus)) waiting for \(what)\nstdout: \(stdout)\nstderr: \(stderr)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The `key=value` pairs of the `counts:` line printed on exit.
    static func counts(_ stdout: String) -> [String: Int]? {
        guard let line = stdout.split(separator: "\n").last(where: { $0.hasPrefix("counts: ") }) else { return nil }
        var counts: [String: Int] = [:]
        for pair in line.dropFirst("counts: ".count).split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { counts[String(parts[0])] = value }
        }
        return counts
    }

    // MARK: Requests

    /// What the receiver answered.
    struct Reply {
        var status: Int
        var body: String
        var elapsed: Duration
    }

    /// POSTs `body` to the receiver with `headers`.
    func post(_ body: String, headers: [(name: String, value: String)], path: String = "/hook") async throws -> Reply {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(string: body))
        let started = ContinuousClock.now
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let answer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: answer), elapsed: ContinuousClock.now - started)
    }

    /// POSTs `body` signed now (or at `timestamp`) as event `id` with `signer`.
    func postSigned(
        _ body: String,
        id: String,
        signer: WebhookSigner,
        timestamp: Int64 = Int64(Date().timeIntervalSince1970)
    ) async throws -> Reply {
        let headers = signer.headers(id: id, eventType: "test.event", timestamp: timestamp, body: Array(body.utf8))
        return try await post(body, headers: headers)
    }

    // MARK: Private

    /// Starts the binary on a thread of its own (never blocking the cooperative pool), its output drained by two more.
    ///
    /// Dedicated threads rather than Dispatch's global queue: a reader blocks for the child's whole life,
    /// and libdispatch adds workers for blocked ones only about once a second, which stalls every
    /// other user of the global queue (seconds per test when several receivers run at once).
    private static func spawn(
        _ arguments: [String],
        in directory: String,
        environment: [String: String],
        stdin: FileHandle = .nullDevice
    ) async throws -> ReceiveProcess {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try spawnNow(arguments, in: directory, environment: environment, stdin: stdin) })
            }.start()
        }
    }

    private static func spawnNow(_ arguments: [String], in directory: String, environment: [String: String], stdin: FileHandle) throws -> ReceiveProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryTests.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = stdin
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let streams = Streams()
        try process.run()
        for (pipe, isStdout) in [(out, true), (err, false)] {
            let reader = pipe.fileHandleForReading
            Thread {
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    if isStdout {
                        streams.stdout.withLock { $0.append(chunk) }
                    } else {
                        streams.stderr.withLock { $0.append(chunk) }
                    }
                }
                streams.open.withLock { $0 -= 1 }
            }.start()
        }
        return ReceiveProcess(process: process, streams: streams)
    }

    private var hasExited: Bool { !process.isRunning && streams.open.withLock { $0 == 0 } }

    /// How the process ended; only meaningful once it has.
    private var exit: Exit {
        Exit(status: process.terminationStatus, exitedNormally: process.terminationReason == .exit, stdout: stdout, stderr: stderr)
    }
}

/// `kill(2)`, outside `ReceiveProcess`, whose own `kill()` hides the name.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
