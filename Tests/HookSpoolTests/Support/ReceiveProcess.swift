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
import WebhookSignature

/// A real `hookspool receive` child process (`HookSpoolBinary.start`): started on port 0, its port
/// read from its first stdout line, stopped by a signal. Call `kill()` in a `defer` so it never
/// outlives the test, even when the test fails.
final class ReceiveProcess: Sendable {
    private let child: ChildProcess
    /// The port from the `listening on` line.
    let port: Int

    private init(child: ChildProcess, port: Int) {
        self.child = child
        self.port = port
    }

    var stdout: String { child.stdout }
    var stderr: String { child.stderr }

    /// Starts `hookspool receive --port 0 ARGUMENTS` in `directory` and waits for `listening on 127.0.0.1:PORT`.
    static func start(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> ReceiveProcess {
        let child = try await HookSpoolBinary.start(["receive", "--port", "0"] + arguments, in: directory, environment: environment)
        return ReceiveProcess(child: child, port: try await listeningPort(of: child))
    }

    /// Waits for a receiver's first stdout line, `listening on 127.0.0.1:PORT`, and returns the port;
    /// kills the child and throws if it says anything else first, exits, or says nothing within `timeout`.
    static func listeningPort(of child: ChildProcess, timeout: Duration = .seconds(30)) async throws -> Int {
        var port: Int?
        do {
            try await child.waitFor("`listening on 127.0.0.1:PORT`", timeout: timeout) {
                let text = child.stdout
                guard let newline = text.firstIndex(of: "\n") else { return false }
                let first = text[..<newline]
                guard first.hasPrefix("listening on 127.0.0.1:"), let number = Int(first.split(separator: ":").last ?? "") else {
                    throw TestFailure("unexpected first line from \(child.command): \(first)\nstderr: \(child.stderr.suffix(4000))")
                }
                port = number
                return true
            }
        } catch {
            child.kill()
            throw error
        }
        guard let port else { throw TestFailure("no port") }
        return port
    }

    /// Sends `signal` and waits for the process to exit and close its output.
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async throws -> ChildProcess.Exit {
        try await child.stop(signal: signal, timeout: timeout)
    }

    /// SIGKILL if still running; safe to call any number of times.
    func kill() {
        child.kill()
    }

    /// Waits until `condition` holds, checked again at each chunk the receiver prints; fails at the
    /// timeout, or as soon as the process has exited without it holding.
    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
        try await child.waitFor(what, timeout: timeout, condition)
    }

    /// The `key=value` pairs of the `counts:` line a receiver prints on exit.
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
}
