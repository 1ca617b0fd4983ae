import Foundation
import HookSpoolReceiver
import Testing
@testable import HookSpool

/// What the binary prints: `check` without secrets, log lines in logfmt and JSON, the summary line at every
/// level, and the progress line, drawn only on a terminal.
@Suite("Command line output")
struct CommandLineOutputTests {
    static let secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "file-secret-0c8f1e", "github-secret-77ab"]

    @Test("check shows every setting and no secret, URL credential, query value or header value")
    func checkHidesSecrets() async throws {
        let ws = try TestWorkspace()
        try Data("\(Self.secrets[2])\n".utf8).write(to: URL(fileURLWithPath: ws.root + "/secret.txt"))
        try ws.writeConfig("""
            report:
              dir: ./reports
              keep: 30
            delivery:
              retry_for: 12h
              retry_schedule: [10s, 10m]
              disable_after: 3d
            metrics:
              textfile: ./metrics/hookspool.prom
            endpoints:
              - name: orders
                url: https://alice:p4ssw0rd-Zq@hooks.example.com/in?token=tok-9d2f&plain
                events: ["order.*"]
                secret: [\(Self.secrets[0]), \(Self.secrets[1])]
                headers: {X-Api-Key: header-value-5e1a}
                concurrency: 4
              - name: crm
                url: https://crm.example.com/hooks
                events: ["*"]
                secret: file:secret.txt
                signature: hmac-sha256
              - name: audit
                url: https://audit.example.com/hooks
                events: ["audit.*"]
                secret: \(Self.secrets[3])
                signature: github
                enabled: false
            """)
        let result = try await HookSpoolBinary.run(["check", "--type", "order.created"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdout + result.stderr
        for secret in Self.secrets + ["p4ssw0rd-Zq", "alice", "tok-9d2f", "header-value-5e1a"] {
            #expect(!output.contains(secret), "\(secret) appeared in: \(output)")
        }
        for expected in [
            "https://***@hooks.example.com/in?token=***&***", "standard, 2 secrets", "hmac-sha256, 1 secret", "X-Api-Key",
            "retry_for 12h", "retry_schedule 10s, 10m", "disable_after 3d", "\(URL(fileURLWithPath: ws.root).standardizedFileURL.path)/metrics/hookspool.prom",
            "keeps the newest 30 runs", "max_event_bytes 1MiB", "concurrency 4", "audit (disabled",
            "order.created → orders, crm",
        ] {
            #expect(output.contains(expected), "missing \(expected) in: \(output)")
        }
    }

    @Test("check masks the tokens in Slack, Discord and Teams URL paths, inline or from file:; a bad url file: is exit 78 without the URL")
    func checkHidesPathTokens() async throws {
        let slackToken = "aB3dE5gH7jK9mN1pQ3rS5tV7"
        let discordToken = "Zx9_Yw8-Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBaZx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
        let teamsHex = "0123456789abcdef0123456789abcdef"
        let guid = "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d"
        let ws = try TestWorkspace()
        try Data("https://discord.com/api/webhooks/123456789012345678/\(discordToken)\n".utf8).write(to: URL(fileURLWithPath: ws.root + "/discord.url"))
        try ws.writeConfig("""
            endpoints:
              - name: slack
                url: https://hooks.slack.com/services/T0ABC/B0DEF/\(slackToken)
                events: ["*"]
                secret: \(Self.secrets[0])
              - name: discord
                url: file:discord.url
                events: ["*"]
                secret: \(Self.secrets[0])
              - name: teams
                url: https://contoso.webhook.office.com/webhookb2/\(guid)@\(guid)/IncomingWebhook/\(teamsHex)/\(guid)
                events: ["*"]
                secret: \(Self.secrets[0])
            """)
        let result = try await HookSpoolBinary.run(["check"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdout + result.stderr
        for secret in [slackToken, discordToken, teamsHex, guid, "123456789012345678"] {
            #expect(!output.contains(secret), "\(secret) appeared in: \(output)")
        }
        for expected in [
            "https://hooks.slack.com/services/T0ABC/B0DEF/***", "https://discord.com/api/webhooks/***/***",
            "https://contoso.webhook.office.com/webhookb2/***/IncomingWebhook/***/***",
        ] {
            #expect(output.contains(expected), "missing \(expected) in: \(output)")
        }

        try Data("http://hooks.slack.com/services/T0ABC/B0DEF/\(slackToken)\n".utf8).write(to: URL(fileURLWithPath: ws.root + "/discord.url"))
        let refused = try await HookSpoolBinary.run(["check"], in: ws.root)
        #expect(refused.status == 78, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("config.yaml:7:"), "\(refused.stderr)")
        #expect(refused.stderr.contains("endpoints[1] (discord).url: the URL from file:discord.url: http:// is refused"), "\(refused.stderr)")
        #expect(!(refused.stdout + refused.stderr).contains(slackToken) && !(refused.stdout + refused.stderr).contains("hooks.slack.com"))
    }

    @Test("--log-format json: every line is one JSON object with time, level and msg; the summary is there")
    func jsonLogs() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port)))
            try ws.drop("a.ndjson", [#"{"type":"x"}"#, #"{"type":"y"}"#])
            let result = try await HookSpoolBinary.run(["run", "--log-format", "json", "--log-level", "debug"], in: ws.root)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count >= 4, "\(result.stderr)")
            var messages: [String] = []
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                #expect(RFC3339.isValid(object["time"] as? String ?? ""))
                #expect(object["level"] is String)
                messages.append(object["msg"] as? String ?? "")
                if object["msg"] as? String == "run finished" {
                    #expect(object["level"] as? String == "notice")
                    #expect(object["delivered"] as? String == "2")
                    #expect(object["exit"] as? String == "0")
                    #expect(object["hookspool.run"] is String)
                }
            }
            #expect(messages.contains("attempt"))
            #expect(messages.last == "run finished")
            #expect(!result.stderr.contains("\r") && !result.stderr.contains("\u{1B}"), "no progress line off a terminal")
        }
    }

    @Test("logfmt by default; at --log-level warning the summary line is still printed, and nothing else of a clean run")
    func summaryAtEveryLevel() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port)))
            try ws.drop("a.ndjson", [#"{"type":"x"}"#])
            let info = try await HookSpoolBinary.run(["run"], in: ws.root)
            #expect(info.status == 0, "\(info.stderr)")
            #expect(info.stderr.contains(#"level=info msg="file finished""#), "\(info.stderr)")
            let summary = try #require(info.stderr.split(separator: "\n").last)
            #expect(summary.hasPrefix("time="))
            #expect(summary.contains(#"level=notice msg="run finished""#))
            #expect(summary.contains(" delivered=1 "))

            try ws.drop("b.ndjson", [#"{"type":"x"}"#])
            let quiet = try await HookSpoolBinary.run(["run", "--log-level", "warning"], in: ws.root)
            #expect(quiet.status == 0)
            let lines = quiet.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(quiet.stderr)")
            #expect(lines.first?.contains(#"msg="run finished""#) == true)
            #expect(lines.first?.contains(" exit=0") == true)
        }
    }

    @Test("on a terminal a progress line is drawn in place below the log lines and cleared at the end", .timeLimit(.minutes(1)))
    func progressOnTerminal() async throws {
        let ws = try TestWorkspace()
        try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 200, delay: .milliseconds(120)) }) { receiver in
            try ws.writeConfig(testConfig(endpoints: testEndpoint(port: receiver.port, more: "concurrency: 1")))
            try ws.drop("slow.ndjson", (1...12).map { #"{"id":"e\#($0)","type":"x"}"# })
            // Standard error on a pseudo-terminal: `output` is what the binary draws there.
            let result = try await HookSpoolBinary.run(["run"], in: ws.root, stderr: .terminal, timeout: .seconds(50))
            let (status, output) = (result.status, result.stderr)
            #expect(status == 0, "\(output)")
            #expect(output.contains("\r\u{1B}[Khookspool: files 0/1  events"), "\(output.debugDescription)")
            #expect(output.contains("delivered"))
            #expect(output.contains(#"msg="run finished""#))
            #expect(output.hasSuffix("\r\u{1B}[K"), "the line is cleared at the end: \(output.suffix(200).debugDescription)")
        }
    }
}
