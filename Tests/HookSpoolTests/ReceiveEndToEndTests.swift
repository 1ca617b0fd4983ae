#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
import WebhookSignature
@testable import HookSpool

/// The real `hookspool receive` binary on 127.0.0.1, fed by real runs and by hand-signed requests.
@Suite("hookspool receive end to end")
struct ReceiveEndToEndTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// One line of `--out`, read back: the event as delivered.
    struct StoredLine {
        var id: String
        var type: String?
    }

    /// Every line of `--out`; fails the test if one is not a complete JSON object with a string id.
    static func storedLines(_ path: String) throws -> [StoredLine] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.isEmpty || text.hasSuffix("\n"), "the file ends mid-line")
        return try text.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not an object: \(line)")
            let id = try #require(object["id"] as? String, "no id: \(line)")
            return StoredLine(id: id, type: object["type"] as? String)
        }
    }

    @Test("a run delivers every event exactly once into --out, even with --fail-first 2")
    func runWithFailFirst() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let receiver = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out, "--fail-first", "2"], in: ws.root)
        defer { receiver.kill() }
        let ids = (1...40).map { "evt_ff_\($0)" }
        try ws.drop("a.ndjson", ids.map { #"{"id":"\#($0)","type":"order.created","data":{"n":1}}"# })

        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port), maxAttempts: 3))
        #expect(outcome.exitStatus == .ok)
        #expect(outcome.report.totals.delivered == 40)
        #expect(outcome.report.totals.attempts == 120, "two 503s, then the 200, for each event")

        let lines = try Self.storedLines(out)
        #expect(lines.map(\.id).sorted() == ids.sorted())
        #expect(lines.allSatisfy { $0.type == "order.created" })

        let exit = try await receiver.stop()
        #expect(exit.exitedNormally && exit.status == 0, "\(exit.stderr)")
        #expect(ReceiveProcess.counts(exit.stdout) == ["received": 120, "accepted": 40, "duplicates": 0, "failed_on_purpose": 80, "rejected": 0])
    }

    @Test("with a whpk_ public key, receive accepts a run's v1a deliveries (whsk_ in the config) and refuses one signed with another key")
    func asymmetric() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let pair = WebhookSecret.generateKeyPair()
        let receiver = try await ReceiveProcess.start(["--secret", "env:RECEIVE_PUBLIC_KEY", "--out", out], in: ws.root, environment: ["RECEIVE_PUBLIC_KEY": pair.publicKey])
        defer { receiver.kill() }
        try ws.drop("a.ndjson", (1...5).map { #"{"id":"evt_v1a_\#($0)","type":"order.created"}"# })
        let outcome = try await ws.run(testConfig(endpoints: testEndpoint(port: receiver.port, secret: pair.secretKey)))
        #expect(outcome.exitStatus == .ok, "\(outcome.report.failures)")
        #expect(try Self.storedLines(out).map(\.id).sorted() == (1...5).map { "evt_v1a_\($0)" })
        let forger = try WebhookSigner(scheme: .standard, secrets: [WebhookSecret.generateKeyPair().secretKey])
        let forged = try await receiver.postSigned(#"{"id":"evt_forged","type":"t"}"#, id: "evt_forged", signer: forger)
        #expect(forged.status == 401)
        let exit = try await receiver.stop()
        #expect(ReceiveProcess.counts(exit.stdout)?["accepted"] == 5)
        #expect(ReceiveProcess.counts(exit.stdout)?["rejected"] == 1)
        #expect(!(exit.stdout + exit.stderr).contains(pair.publicKey) && !(exit.stdout + exit.stderr).contains(pair.secretKey))
    }

    @Test("a replayed delivery gets 200 and is not stored twice, also after a restart; a torn last line is cut off")
    func replayAcrossRestart() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let signer = try WebhookSigner(scheme: .standard, secrets: [Self.secret])
        let body = #"{"id":"evt_replay","type":"order.created","data":{}}"#
        let now = Int64(Date().timeIntervalSince1970)

        let first = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out], in: ws.root)
        defer { first.kill() }
        let original = try await first.postSigned(body, id: "evt_replay", signer: signer, timestamp: now - 5)
        #expect(original.status == 200 && original.body.contains(#""stored":true"#), "\(original.body)")
        let replay = try await first.postSigned(body, id: "evt_replay", signer: signer, timestamp: now)
        #expect(replay.status == 200 && replay.body.contains(#""duplicate":true"#), "\(replay.body)")
        #expect(try Self.storedLines(out).map(\.id) == ["evt_replay"])

        // A second receiver on the same file is refused: two writers would break once-only storage.
        let rival = try await HookSpoolBinary.run(["receive", "--port", "0", "--secret", Self.secret, "--out", out], in: ws.root)
        #expect(rival.status == 74)
        #expect(rival.stderr.contains("another hookspool receive is writing to it"), "\(rival.stderr)")

        let firstExit = try await first.stop()
        #expect(firstExit.status == 0)
        #expect(ReceiveProcess.counts(firstExit.stdout)?["accepted"] == 1)
        #expect(ReceiveProcess.counts(firstExit.stdout)?["duplicates"] == 1)

        // What a crash in the middle of a write leaves behind: a last line without its newline.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"id":"evt_torn","received_at":"2026-"#.utf8))
        try handle.close()

        let second = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out], in: ws.root)
        defer { second.kill() }
        try await second.waitFor("the recovery note") { second.stderr.contains("cut off an unfinished last line") }
        #expect(second.stderr.contains("1 event ids already stored"), "\(second.stderr)")
        let afterRestart = try await second.postSigned(body, id: "evt_replay", signer: signer)
        #expect(afterRestart.status == 200 && afterRestart.body.contains(#""duplicate":true"#), "\(afterRestart.body)")
        let torn = #"{"id":"evt_torn","type":"order.created","data":{}}"#
        let tornReply = try await second.postSigned(torn, id: "evt_torn", signer: signer)
        #expect(tornReply.status == 200 && tornReply.body.contains(#""stored":true"#), "the torn line was never acknowledged")
        #expect(try Self.storedLines(out).map(\.id) == ["evt_replay", "evt_torn"])

        let secondExit = try await second.stop()
        #expect(secondExit.status == 0)
        #expect(ReceiveProcess.counts(secondExit.stdout)?["accepted"] == 1)
        #expect(ReceiveProcess.counts(secondExit.stdout)?["duplicates"] == 1)
    }

    @Test("a bad, missing, stale or future signature gets 401 with the reason, and nothing is stored")
    func badSignatures() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let receiver = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out, "--tolerance", "1m"], in: ws.root)
        defer { receiver.kill() }
        let signer = try WebhookSigner(scheme: .standard, secrets: [Self.secret])
        let wrong = try WebhookSigner(scheme: .standard, secrets: ["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"])
        let body = #"{"id":"evt_bad","type":"order.created","data":{"amount":100}}"#
        let now = Int64(Date().timeIntervalSince1970)

        var replies: [(String, ReceiveProcess.Reply)] = []
        replies.append(("No signature matches", try await receiver.postSigned(body, id: "evt_bad", signer: wrong)))
        let tamperedHeaders = signer.headers(id: "evt_bad", eventType: "order.created", timestamp: now, body: Array(body.utf8))
        let tampered = body.replacingOccurrences(of: "100", with: "900")
        replies.append(("No signature matches", try await receiver.post(tampered, headers: tamperedHeaders)))
        replies.append(("webhook-id header is missing", try await receiver.post(body, headers: [])))
        replies.append(("older than the allowed tolerance", try await receiver.postSigned(body, id: "evt_bad", signer: signer, timestamp: now - 120)))
        replies.append(("further in the future", try await receiver.postSigned(body, id: "evt_bad", signer: signer, timestamp: now + 120)))
        for (reason, reply) in replies {
            #expect(reply.status == 401)
            let object = try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
            let error = try #require(object?["error"] as? String, "\(reply.body)")
            #expect(error.contains(reason), "\(error)")
        }
        #expect(try Self.storedLines(out).isEmpty)

        // The control: the same body, signed right, is stored.
        let good = try await receiver.postSigned(body, id: "evt_bad", signer: signer)
        #expect(good.status == 200)
        #expect(try Self.storedLines(out).map(\.id) == ["evt_bad"])

        let exit = try await receiver.stop()
        #expect(exit.status == 0)
        #expect(ReceiveProcess.counts(exit.stdout) == [
            "received": 6, "accepted": 1, "duplicates": 0, "failed_on_purpose": 0, "rejected": 5,
            "rejected.no_matching_signature": 2, "rejected.missing_header": 1,
            "rejected.timestamp_too_old": 1, "rejected.timestamp_too_new": 1,
        ])
    }

    /// `--allow-ip` lists and what a request from 127.0.0.1 gets.
    static let allowListCases: [([String], Int)] = [
        (["10.0.0.0/8", "fd00::/8"], 403),
        (["10.0.0.0/8", "127.0.0.0/8"], 200),
        (["127.0.0.0/31"], 200),
        (["127.0.0.2/31"], 403),
        (["::1/128"], 403),
    ]

    @Test("--allow-ip matches the peer address by prefix: 403 outside, stored inside", arguments: allowListCases)
    func allowList(networks: [String], expected: Int) async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let receiver = try await ReceiveProcess.start(
            ["--secret", Self.secret, "--out", out] + networks.flatMap { ["--allow-ip", $0] },
            in: ws.root
        )
        defer { receiver.kill() }
        let signer = try WebhookSigner(scheme: .standard, secrets: [Self.secret])
        let reply = try await receiver.postSigned(#"{"id":"evt_ip","type":"t"}"#, id: "evt_ip", signer: signer)
        #expect(reply.status == expected, "\(reply.body)")
        if expected == 403 {
            #expect(reply.body.contains("127.0.0.1 is not allowed"), "\(reply.body)")
            #expect(try Self.storedLines(out).isEmpty)
        } else {
            #expect(try Self.storedLines(out).map(\.id) == ["evt_ip"])
        }
        let exit = try await receiver.stop()
        #expect(exit.status == 0)
        #expect(ReceiveProcess.counts(exit.stdout)?["rejected.forbidden_address"] == (expected == 403 ? 1 : nil))
    }

    @Test("`hookspool run` with github and stripe endpoints verifies in `hookspool receive`; a wrong secret does not")
    func githubAndStripe() async throws {
        let ws = try TestWorkspace()
        let githubSecret = "It's a Secret to Everybody"
        let stripeSecret = "whsec_stripe_style_1a2b3c"
        let github = try await ReceiveProcess.start(["--scheme", "github", "--secret", githubSecret, "--out", ws.root + "/github.ndjson"], in: ws.root)
        defer { github.kill() }
        let stripe = try await ReceiveProcess.start(
            ["--scheme", "stripe", "--secret", "env:RECEIVE_TEST_STRIPE_SECRET", "--out", ws.root + "/stripe.ndjson"],
            in: ws.root,
            environment: ["RECEIVE_TEST_STRIPE_SECRET": stripeSecret]
        )
        defer { stripe.kill() }

        func config(githubSecret: String, stripeSecret: String) -> String {
            testConfig(endpoints: [
                testEndpoint(name: "gh", port: github.port, secret: "\"\(githubSecret)\"", signature: "github"),
                testEndpoint(name: "st", port: stripe.port, secret: stripeSecret, signature: "stripe"),
            ].joined(separator: "\n"))
        }
        let ids = (1...10).map { "evt_gs_\($0)" }
        try ws.drop("a.ndjson", ids.map { #"{"id":"\#($0)","type":"user.signup","data":{"name":"Zoë"}}"# })
        try ws.writeConfig(config(githubSecret: githubSecret, stripeSecret: stripeSecret))
        let run = try await HookSpoolBinary.run(["run"], in: ws.root)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try Self.storedLines(ws.root + "/github.ndjson").map(\.id).sorted() == ids.sorted())
        #expect(try Self.storedLines(ws.root + "/stripe.ndjson").map(\.id).sorted() == ids.sorted())

        // The negative control: signed with secrets the receivers do not know, nothing verifies.
        try ws.drop("b.ndjson", [#"{"id":"evt_gs_wrong","type":"user.signup"}"#])
        try ws.writeConfig(config(githubSecret: "It's a Secret to Nobody", stripeSecret: "whsec_stripe_style_wrong"))
        let wrong = try await HookSpoolBinary.run(["run"], in: ws.root)
        #expect(wrong.status == 1, "\(wrong.stderr)")

        for receiver in [github, stripe] {
            let exit = try await receiver.stop()
            #expect(exit.status == 0)
            let counts = ReceiveProcess.counts(exit.stdout)
            #expect(counts?["accepted"] == 10)
            #expect(counts?["rejected.no_matching_signature"] == 1, "\(exit.stdout)")
        }
        #expect(try Self.storedLines(ws.root + "/github.ndjson").count == 10)
    }

    @Test("concurrent deliveries of the same ids are stored once each, in whole lines")
    func concurrentDuplicates() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let receiver = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out], in: ws.root)
        defer { receiver.kill() }
        let signer = try WebhookSigner(scheme: .standard, secrets: [Self.secret])
        let ids = (1...60).map { "evt_cc_\($0)" }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for id in ids {
                for copy in 0..<3 {
                    group.addTask {
                        let body = #"{"id":"\#(id)","type":"t","data":{"copy":\#(copy),"pad":"\#(String(repeating: "x", count: 2000))"}}"#
                        return try await receiver.postSigned(body, id: id, signer: signer).status
                    }
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.count == 180 && statuses.allSatisfy { $0 == 200 })
        let lines = try Self.storedLines(out)
        #expect(lines.count == 60)
        #expect(Set(lines.map(\.id)) == Set(ids))
        let exit = try await receiver.stop()
        #expect(exit.status == 0)
        #expect(ReceiveProcess.counts(exit.stdout)?["accepted"] == 60)
        #expect(ReceiveProcess.counts(exit.stdout)?["duplicates"] == 120)
    }

    @Test("--status 410 answers after verifying and stores nothing; --delay waits; SIGINT exits 0 with the counts")
    func statusDelayAndSIGINT() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let receiver = try await ReceiveProcess.start(["--secret", Self.secret, "--out", out, "--status", "410", "--delay", "300ms"], in: ws.root)
        defer { receiver.kill() }
        let signer = try WebhookSigner(scheme: .standard, secrets: [Self.secret])
        let gone = try await receiver.postSigned(#"{"id":"evt_410","type":"t"}"#, id: "evt_410", signer: signer)
        #expect(gone.status == 410)
        #expect(gone.elapsed >= .milliseconds(300))
        let unsigned = try await receiver.post(#"{"id":"evt_410","type":"t"}"#, headers: [])
        #expect(unsigned.status == 401, "verification comes first")
        #expect(try Self.storedLines(out).isEmpty)

        let exit = try await receiver.stop(signal: SIGINT)
        #expect(exit.exitedNormally && exit.status == 0)
        #expect(ReceiveProcess.counts(exit.stdout) == [
            "received": 2, "accepted": 0, "duplicates": 0, "failed_on_purpose": 1, "rejected": 1, "rejected.missing_header": 1,
        ])
    }

    @Test("a verified body that is not a JSON object, has no id, or whose id header disagrees, gets 400")
    func unusableBodies() async throws {
        let ws = try TestWorkspace()
        let out = ws.root + "/received.ndjson"
        let secret = "plain-github-secret"
        let receiver = try await ReceiveProcess.start(["--scheme", "github", "--secret", secret, "--out", out], in: ws.root)
        defer { receiver.kill() }
        let signer = try WebhookSigner(scheme: .github, secrets: [secret])
        let noID = try await receiver.postSigned(#"{"type":"t"}"#, id: "evt_header_only", signer: signer)
        #expect(noID.status == 400 && noID.body.contains("no id"), "\(noID.body)")
        let notJSON = try await receiver.postSigned("id=evt_1", id: "evt_1", signer: signer)
        #expect(notJSON.status == 400 && notJSON.body.contains("not a JSON object"), "\(notJSON.body)")
        // X-Webhook-Id is not signed in this scheme: it must name the body's id, which is.
        let mismatch = try await receiver.postSigned(#"{"id":"evt_body","type":"t"}"#, id: "evt_header", signer: signer)
        #expect(mismatch.status == 400 && mismatch.body.contains("does not name the body's event"), "\(mismatch.body)")
        let stored = try await receiver.postSigned(#"{"id":"evt_body","type":"t"}"#, id: "evt_body", signer: signer)
        #expect(stored.status == 200)
        // Without the optional id header, the body's id alone names the event.
        let bare = #"{"id":"evt_bare","type":"t"}"#
        let bareHeaders = signer.headers(id: "evt_bare", eventType: "t", timestamp: 0, body: Array(bare.utf8)).filter { $0.name == "X-Hub-Signature-256" }
        let bareReply = try await receiver.post(bare, headers: bareHeaders)
        #expect(bareReply.status == 200, "\(bareReply.body)")
        #expect(try Self.storedLines(out).map(\.id) == ["evt_body", "evt_bare"])
        let exit = try await receiver.stop()
        #expect(ReceiveProcess.counts(exit.stdout)?["rejected.no_event_id"] == 1)
        #expect(ReceiveProcess.counts(exit.stdout)?["rejected.invalid_body"] == 1)
        #expect(ReceiveProcess.counts(exit.stdout)?["rejected.id_mismatch"] == 1)
    }

    /// Command lines that must stop before listening, and their exit codes.
    static let startupCases: [([String], Int32)] = [
        (["receive", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], 64),
        (["receive", "--port", "0"], 64),
        (["receive", "--port", "0", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--allow-ip", "10.0.0.0/33"], 64),
        (["receive", "--port", "0", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--delay", "soon"], 64),
        (["receive", "--port", "0", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--status", "99"], 64),
        (["receive", "--port", "0", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--scheme", "sha1"], 64),
        (["receive", "--port", "0", "--secret", "env:HOOKSPOOL_RECEIVE_TEST_UNSET"], 65),
        (["receive", "--port", "0", "--secret", "not-a-whsec-secret"], 65),
        (["receive", "--port", "0", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--out", "no-such-folder/out.ndjson"], 74),
    ]

    @Test("usage mistakes exit 64, unusable secrets 65, an unusable --out 74", arguments: startupCases)
    func startupErrors(arguments: [String], expected: Int32) async throws {
        let ws = try TestWorkspace()
        let result = try await HookSpoolBinary.run(arguments, in: ws.root)
        #expect(result.status == expected, "\(result.stderr)")
        #expect(!result.stdout.contains("listening on"))
        #expect(!result.stderr.contains("not-a-whsec-secret"), "secrets never appear in messages")
    }
}
