import Foundation
import HookSpoolReceiver
import Testing

/// The real `hookspool` binary: exit codes and messages on small workspaces.
@Suite("hookspool binary")
struct BinaryTests {
    @Test("run exits 0 when everything is delivered, 1 when a delivery fails")
    func exitCodes() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { request in request.path == "/bad" ? ReceiverReply(status: 400) : .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port, path: "/good")))
            try ws.drop("a.ndjson", [#"{"type":"x"}"#])
            let ok = try await HookSpoolBinary.run(["run"], in: ws.root)
            #expect(ok.status == 0, "\(ok.stderr)")
            #expect(ok.stderr.contains("run finished"))
            #expect(receiver.requests.count == 1)

            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port, path: "/bad")))
            try ws.drop("b.ndjson", [#"{"type":"x"}"#])
            let failed = try await HookSpoolBinary.run(["run", "--config", "config.yaml"], in: ws.root)
            #expect(failed.status == 1, "\(failed.stderr)")
            #expect(ws.files("failed") == ["b.failures.ndjson", "b.ndjson"])
        }
    }

    @Test("a config mistake exits 78 with file, line and key; nothing is sent or moved")
    func configError() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 9, more: "timeout: forever")))
        try ws.drop("a.ndjson", [#"{"type":"x"}"#])
        let result = try await HookSpoolBinary.run(["run"], in: ws.root)
        #expect(result.status == 78)
        #expect(result.stderr.contains("config.yaml:20:14: endpoints[0] (hook).timeout: 'forever' is not a duration"), "\(result.stderr)")
        #expect(ws.files("incoming") == ["a.ndjson"])
        let check = try await HookSpoolBinary.run(["check"], in: ws.root)
        #expect(check.status == 78)
    }

    @Test("check prints endpoints without secrets")
    func check() async throws {
        let ws = try TestWorkspace()
        try ws.writeConfig(testConfig(endpoints: testEndpoint(port: 8080, events: #"["order.*"]"#)))
        let result = try await HookSpoolBinary.run(["check", "--type", "order.created"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("hook"))
        #expect(result.stdout.contains("order.created → hook"))
        #expect(!result.stdout.contains("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
    }

    @Test("a missing config file exits 78 and says so")
    func missingConfig() async throws {
        let ws = try TestWorkspace()
        let result = try await HookSpoolBinary.run(["run", "--config", "nope.yaml"], in: ws.root)
        #expect(result.status == 78)
        #expect(result.stderr.contains("nope.yaml"))
    }

    @Test("usage errors exit 64")
    func usage() async throws {
        let ws = try TestWorkspace()
        let result = try await HookSpoolBinary.run(["run", "--no-such-flag"], in: ws.root)
        #expect(result.status == 64)
    }
}
