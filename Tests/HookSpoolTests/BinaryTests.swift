import Foundation
import Synchronization
import HookSpoolReceiver
import Testing

/// The real `hookspool` binary: exit codes and messages on small workspaces.
@Suite("hookspool binary")
struct BinaryTests {
    /// The binary SwiftPM built next to the test bundle.
    static var binary: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundle.appendingPathComponent("hookspool").path, bundle.deletingLastPathComponent().appendingPathComponent("hookspool").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the binary to completion. The blocking reads and wait happen on threads of their own
    /// (see `BlockingThread`), never on the pool the in-process receivers answer from.
    static func hookspool(_ arguments: [String], in directory: String) async throws -> Result {
        try await run(binary, arguments, in: directory)
    }

    /// Runs `executable` to completion, as `hookspool(_:in:)` does.
    static func run(_ executable: String, _ arguments: [String], in directory: String) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            BlockingThread.detach {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                process.currentDirectoryURL = URL(fileURLWithPath: directory)
                let out = Pipe()
                let err = Pipe()
                process.standardOutput = out
                process.standardError = err
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                // Drain stderr on another thread so neither pipe can fill and block the child.
                let errData = Mutex(Data())
                let group = DispatchGroup()
                group.enter()
                BlockingThread.detach {
                    let data = err.fileHandleForReading.readDataToEndOfFile()
                    errData.withLock { $0 = data }
                    group.leave()
                }
                let outData = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                continuation.resume(returning: Result(
                    status: process.terminationStatus,
                    stdout: String(decoding: outData, as: UTF8.self),
                    stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self)
                ))
            }
        }
    }

    @Test("run exits 0 when everything is delivered, 1 when a delivery fails")
    func exitCodes() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { request in request.path == "/bad" ? ReceiverReply(status: 400) : .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port, path: "/good")))
            try ws.drop("a.ndjson", [#"{"type":"x"}"#])
            let ok = try await Self.hookspool(["run"], in: ws.root)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stderr.contains("run finished"))
            #expect(receiver.requests.count == 1)

            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port, path: "/bad")))
            try ws.drop("b.ndjson", [#"{"type":"x"}"#])
            let failed = try await Self.hookspool(["run", "--config", "config.yaml"], in: ws.root)
            #expect(failed.status == 1, "\(failed.stderr)")
            #expect(ws.files("failed") == ["b.failures.ndjson", "b.ndjson"])
        }
    }

    @Test("a config mistake exits 78 with file, line and key; nothing is sent or moved")
    func configError() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 9, more: "timeout: forever")))
        try ws.drop("a.ndjson", [#"{"type":"x"}"#])
        let result = try await Self.hookspool(["run"], in: ws.root)
        #expect(result.status == 78)
        #expect(result.stderr.contains("config.yaml:20:14: endpoints[0] (hook).timeout: 'forever' is not a duration"), "\(result.stderr)")
        #expect(ws.files("incoming") == ["a.ndjson"])
        let check = try await Self.hookspool(["check"], in: ws.root)
        #expect(check.status == 78)
    }

    @Test("check prints endpoints without secrets")
    func check() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 8080, events: #"["order.*"]"#)))
        let result = try await Self.hookspool(["check", "--type", "order.created"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("hook"))
        #expect(result.stdout.contains("order.created → hook"))
        #expect(!result.stdout.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    }

    @Test("a missing config file exits 78 and says so")
    func missingConfig() async throws {
        let ws = try TestWorkspace()
        let result = try await Self.hookspool(["run", "--config", "nope.yaml"], in: ws.root)
        #expect(result.status == 78)
        #expect(result.stderr.contains("nope.yaml"))
    }

    @Test("usage errors exit 64")
    func usage() async throws {
        let ws = try TestWorkspace()
        let result = try await Self.hookspool(["run", "--no-such-flag"], in: ws.root)
        #expect(result.status == 64)
    }
}
