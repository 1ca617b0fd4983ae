import Foundation
import Testing
import WebhookSignature
@testable import HookSpool

/// Config validation: every mistake is an error naming its line, column and key.
@Suite("Config")
struct ConfigTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// A valid config with one endpoint; `endpoint` lines are appended to its mapping.
    static func yaml(url: String = "https://hooks.example.com/in", endpoint: String = "", top: String = "") -> String {
        """
        \(top)
        endpoints:
          - name: orders
            url: \(url)
            events: ["order.*"]
            secret: \(secret)
        \(endpoint.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        """
    }

    func issues(_ yaml: String, environment: [String: String] = [:], baseDirectory: String = "/tmp") -> [ConfigIssue] {
        do {
            _ = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: baseDirectory, environment: environment)
            return []
        } catch {
            return error.issues
        }
    }

    @Test("the reference config.yaml at the top of the repository loads")
    func referenceConfigLoads() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try Config.load(file: root.appendingPathComponent("config.yaml").path, environment: ["ORDERS_SECRET": Self.secret, "BILLING_SECRET": "billing-secret"])
        #expect(!config.endpoints.isEmpty)
        #expect(config.spoolDirectory.hasPrefix(root.path))
    }

    @Test("defaults and relative paths against the config's folder")
    func defaults() throws {
        let config = try Config.parse(yaml: Self.yaml(), file: "config.yaml", baseDirectory: "/srv/hooks")
        #expect(config.spoolDirectory == "/srv/hooks/spool")
        #expect(config.reportDirectory == "/srv/hooks/reports")
        #expect(config.delivery == DeliverySettings())
        #expect(config.limits.maxEventBytes == 1 << 20)
        let endpoint = try #require(config.endpoints.first)
        #expect(endpoint.scheme == .standard)
        #expect(endpoint.timeout == .seconds(10))
        #expect(endpoint.maxAttempts == 5)
        #expect(endpoint.enabled)
    }

    @Test("every key of the contract is read")
    func fullConfig() throws {
        let yaml = """
            spool:
              dir: /var/spool/hookspool
            report:
              dir: ../reports
            delivery:
              concurrency: 12
              timeout: 2500ms
              max_attempts: 7
              backoff: {initial: 250ms, max: 1m}
            limits:
              max_event_bytes: 512KiB
            endpoints:
              - name: a_1
                url: https://user:pw@hooks.example.com:8443/in?token=abc&x=1
                events: ["order.*", "payment.succeeded"]
                secret: [env:NEW_SECRET, env:OLD_SECRET]
                signature: hmac-sha256
                headers: {X-Tenant: acme}
                concurrency: 3
                timeout: 1s
                max_attempts: 2
                enabled: false
                allow_http: false
                allow_private: false
            """
        let config = try Config.parse(yaml: yaml, file: "c.yaml", baseDirectory: "/etc/hookspool", environment: ["NEW_SECRET": "n", "OLD_SECRET": "o"])
        #expect(config.spoolDirectory == "/var/spool/hookspool")
        #expect(config.reportDirectory == "/etc/reports")
        #expect(config.delivery == DeliverySettings(concurrency: 12, timeout: .milliseconds(2500), maxAttempts: 7, backoff: Backoff(initial: .milliseconds(250), max: .seconds(60))))
        #expect(config.limits.maxEventBytes == 512 * 1024)
        let e = try #require(config.endpoints.first)
        #expect(e.secretCount == 2)
        #expect(e.scheme == .hmacSHA256)
        #expect(e.events.map(\.pattern) == ["order.*", "payment.succeeded"])
        #expect(e.headers.map(\.name) == ["X-Tenant"])
        #expect(e.concurrency == 3 && e.timeout == .seconds(1) && e.maxAttempts == 2 && !e.enabled)
        #expect(e.url.redacted == "https://***@hooks.example.com:8443/in?token=***&x=***")
        #expect(e.url.requestURL == "https://hooks.example.com:8443/in?token=abc&x=1")
        #expect(e.url.basicAuthorization == "Basic dXNlcjpwdw==")
    }

    @Test("mistakes name file, line, column and key", arguments: [
        (Self.yaml(top: "delivery:\n  timeout: 10 seconds"), 2, "delivery.timeout", "not a duration"),
        (Self.yaml(top: "delivery:\n  concurrency: lots"), 2, "delivery.concurrency", "not a whole number"),
        (Self.yaml(top: "delivery:\n  max_attempts: 0"), 2, "delivery.max_attempts", "out of range"),
        (Self.yaml(top: "delivery:\n  backoff: {initial: 2s, max: 1s}"), 2, "delivery.backoff.max", "at least"),
        (Self.yaml(top: "limits:\n  max_event_bytes: 1MB"), 2, "limits.max_event_bytes", "not a size"),
        (Self.yaml(top: "spool:\n  folder: x"), 2, "spool.folder", "unknown key"),
        (Self.yaml(top: "metrics:\n  textfile: metrics.txt"), 2, "metrics.textfile", "ending in .prom"),
        (Self.yaml(top: "delivery:\n  retry_for: 1 day"), 2, "delivery.retry_for", "not a duration"),
        (Self.yaml(top: "delivery:\n  retry_schedule: 5s"), 2, "delivery.retry_schedule", "list of durations"),
        (Self.yaml(top: "delivery:\n  retry_schedule: [5s, soon]"), 2, "delivery.retry_schedule[1]", "not a duration"),
        (Self.yaml(top: "delivery:\n  disable_after: 0s"), 2, "delivery.disable_after", "out of range"),
        (Self.yaml(endpoint: "timout: 5s"), 7, "endpoints[0] (orders).timout", "did you mean 'timeout'"),
        (Self.yaml(url: "http://hooks.example.com/in"), 4, "endpoints[0] (orders).url", "https://"),
        (Self.yaml(url: "ftp://hooks.example.com/in"), 4, "endpoints[0] (orders).url", "https://"),
        (Self.yaml(url: "https:///nohost"), 4, "endpoints[0] (orders).url", "no host"),
        (Self.yaml(url: "https://127.0.0.1/in"), 4, "endpoints[0] (orders).url", "loopback"),
        (Self.yaml(url: "https://10.1.2.3/in"), 4, "endpoints[0] (orders).url", "private"),
        (Self.yaml(url: "https://169.254.169.254/latest"), 4, "endpoints[0] (orders).url", "link-local"),
        (Self.yaml(url: "https://100.64.0.1/in"), 4, "endpoints[0] (orders).url", "CGNAT"),
        (Self.yaml(url: "https://[fd00::1]/in"), 4, "endpoints[0] (orders).url", "unique-local"),
        (Self.yaml(url: "https://[::1]/in"), 4, "endpoints[0] (orders).url", "loopback"),
        (Self.yaml(url: "https://192.0.2.7/in"), 4, "endpoints[0] (orders).url", "documentation"),
        (Self.yaml(url: "https://[2001:db8::1]/in"), 4, "endpoints[0] (orders).url", "documentation"),
        (Self.yaml(url: "https://224.0.0.1/in"), 4, "endpoints[0] (orders).url", "multicast"),
        (Self.yaml(url: "https://0.0.0.0/in"), 4, "endpoints[0] (orders).url", "unspecified"),
        (Self.yaml(url: "https://2130706433/in"), 4, "endpoints[0] (orders).url", "loopback"),
        (Self.yaml(url: "https://localhost:8080/in"), 4, "endpoints[0] (orders).url", "loopback name"),
        (Self.yaml(endpoint: "signature: rsa"), 7, "endpoints[0] (orders).signature", "unknown scheme"),
        (Self.yaml(endpoint: "enabled: yes"), 7, "endpoints[0] (orders).enabled", "true or false"),
        (Self.yaml(endpoint: "headers: {Content-Type: text/plain}"), 7, "endpoints[0] (orders).headers.Content-Type", "set by hookspool"),
        (Self.yaml(endpoint: "headers: {\"Bad Header\": x}"), 7, "endpoints[0] (orders).headers.Bad Header", "not a valid header name"),
    ])
    func mistake(yaml: String, line: Int, key: String, message: String) {
        let found = issues(yaml)
        #expect(found.count == 1, "\(found)")
        let issue = found.first
        #expect(issue?.file == "config.yaml")
        #expect(issue?.line == line, "\(String(describing: issue))")
        #expect(issue?.column != nil)
        #expect(issue?.key == key)
        #expect(issue?.message.contains(message) == true, "\(String(describing: issue?.message))")
    }

    @Test("bad globs are refused with their line")
    func badGlob() {
        let yaml = """
            endpoints:
              - name: orders
                url: https://hooks.example.com/in
                events: ["order.*", "order.[ab]", ""]
                secret: \(Self.secret)
            """
        let found = issues(yaml)
        #expect(found.count == 2)
        #expect(found.allSatisfy { $0.line == 4 && $0.message.contains("bad glob") })
    }

    @Test("duplicate names, missing keys and an empty list")
    func structuralMistakes() {
        let duplicate = """
            endpoints:
              - {name: a, url: "https://a.example.com/", events: ["*"], secret: x, signature: github}
              - {name: a, url: "https://b.example.com/", events: ["*"], secret: x, signature: github}
            """
        #expect(issues(duplicate).map(\.line) == [3])
        #expect(issues(duplicate).first?.message.contains("duplicate endpoint name") == true)

        let missing = """
            endpoints:
              - name: a
                events: ["*"]
            """
        let found = issues(missing)
        #expect(Set(found.compactMap(\.key)) == ["endpoints[0] (a).url", "endpoints[0] (a).secret"])
        #expect(issues("endpoints: []").first?.message.contains("at least one") == true)
        #expect(issues("").first?.message.contains("empty") == true)
        #expect(issues("spool: {dir: x}").first?.key == "endpoints")
    }

    @Test("YAML syntax errors and duplicate keys carry their line")
    func syntax() {
        let broken = issues("endpoints:\n  - name: [unclosed\n")
        #expect(broken.count == 1)
        #expect(broken.first?.line != nil)
        #expect(broken.first?.message.contains("YAML") == true)
        let duplicate = issues("spool: {dir: a}\nspool: {dir: b}\nendpoints: []\n")
        #expect(duplicate.first?.message.contains("duplicate key") == true)
    }

    @Test("env: and file: secrets; mistakes never print the secret")
    func secrets() throws {
        let dir = NSTemporaryDirectory() + "hookspool-config-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("\(Self.secret)\n".utf8).write(to: URL(fileURLWithPath: dir + "/s.secret"))
        try Data("".utf8).write(to: URL(fileURLWithPath: dir + "/empty.secret"))

        let fromFile = try Config.parse(yaml: Self.yaml().replacingOccurrences(of: Self.secret, with: "file:s.secret"), file: "c", baseDirectory: dir)
        #expect(fromFile.endpoints.first?.secretCount == 1)

        func problem(_ reference: String, environment: [String: String] = [:]) -> ConfigIssue? {
            issues(Self.yaml().replacingOccurrences(of: Self.secret, with: reference), environment: environment, baseDirectory: dir).first
        }
        #expect(problem("env:MISSING")?.message == "environment variable MISSING is not set")
        #expect(problem("env:EMPTY", environment: ["EMPTY": ""])?.message == "environment variable EMPTY is empty")
        #expect(problem("file:nope.secret")?.message.contains("cannot read secret file") == true)
        #expect(problem("file:empty.secret")?.message.contains("is empty") == true)
        #expect(problem("file:nope.secret")?.line == 6)
        let notWhsec = problem("whsec_!!!not-base64!!!")
        #expect(notWhsec?.key == "endpoints[0] (orders).secret")
        #expect(notWhsec?.message.contains("!!!not-base64!!!") == false)
        let plain = problem("hunter2-not-whsec")
        #expect(plain != nil)
        #expect(plain?.description.contains("hunter2") == false)
    }

    /// Tokens shaped like the ones Slack, Discord and Teams put in their webhook paths (made up, not real).
    static let slackToken = "aB3dE5gH7jK9mN1pQ3rS5tV7"
    static let discordToken = "Zx9_Yw8-Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0FeDcBaZx9Yw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe"
    static let teamsGUIDs = ["1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d", "7a8b9c0d-1e2f-3a4b-5c6d-7e8f9a0b1c2d", "3c4d5e6f-7a8b-9c0d-1e2f-3a4b5c6d7e8f"]
    static let teamsHex = "0123456789abcdef0123456789abcdef"

    @Test("redacted masks the tokens of Slack, Discord and Teams URLs and still sends them", arguments: [
        ("https://hooks.slack.com/services/T0ABC1234/B0DEF5678/\(Self.slackToken)", "https://hooks.slack.com/services/T0ABC1234/B0DEF5678/***"),
        ("https://hooks.slack.com/services/T0ABC/B0DEF/XXXXXXXXXXXXXXXXXXXXXXXX", "https://hooks.slack.com/services/T0ABC/B0DEF/***"),
        ("https://discord.com/api/webhooks/123456789012345678/\(Self.discordToken)", "https://discord.com/api/webhooks/***/***"),
        (
            "https://contoso.webhook.office.com/webhookb2/\(Self.teamsGUIDs[0])@\(Self.teamsGUIDs[1])/IncomingWebhook/\(Self.teamsHex)/\(Self.teamsGUIDs[2])",
            "https://contoso.webhook.office.com/webhookb2/***/IncomingWebhook/***/***"
        ),
        ("https://u:pw@hooks.slack.com:8443/services/T0ABC/B0DEF/\(Self.slackToken)?token=abc&x", "https://***@hooks.slack.com:8443/services/T0ABC/B0DEF/***?token=***&***"),
    ])
    func redactsPathTokens(url: String, expected: String) throws {
        let parsed = try EndpointURL(parsing: url)
        #expect(parsed.redacted == expected)
        #expect(parsed.description == expected)
        for secret in [Self.slackToken, Self.discordToken, Self.teamsHex, "XXXXXXXX", "pw@", "abc"] + Self.teamsGUIDs {
            #expect(!parsed.redacted.contains(secret), "\(secret) in \(parsed.redacted)")
        }
        // What is sent is untouched.
        #expect(parsed.requestURL == url.replacingOccurrences(of: "u:pw@", with: ""))
    }

    @Test("ordinary path segments stay readable beside a masked token", arguments: [
        "/hooks", "/services", "/api/v1/webhooks", "/IncomingWebhook", "/v2/in", "/hooks/12345", "/T0ABC/B0DEF",
        "/order-notifications", "/tenants/acme_corp/events.json", "/a-rather-long-readable-slug",
    ])
    func readableSegments(path: String) throws {
        let parsed = try EndpointURL(parsing: "https://hooks.example.com\(path)/\(Self.slackToken)")
        #expect(parsed.redacted == "https://hooks.example.com\(path)/***")
    }

    @Test("a URL with whitespace (ASCII or Unicode's) or a control character is refused", arguments: [
        "https://a.example/x y", "https://a.example/x\ty", "https://a.example/x\u{1B}", "https://a.example/x\u{7F}", "https://a.example/x\u{85}",
        "https://a.example/x\u{A0}", "https://a.example/x\u{2003}", "https://a.example/x\u{3000}", "https://a.example/\r\n",
    ])
    func refusesSpaces(url: String) {
        #expect(throws: EndpointURL.ParseError(description: "a URL must not be empty or contain spaces or control characters")) { try EndpointURL(parsing: url) }
    }

    @Test("the masking rule: 16+ characters unless a lowercase slug shorter than 32")
    func tokenRule() {
        #expect(!EndpointURL.looksLikeToken("IncomingWebhook"))              // 15: short
        #expect(!EndpointURL.looksLikeToken("abcdefghijklmnop"))             // 16, a-z only
        #expect(!EndpointURL.looksLikeToken("order_notifications-eu.json"))  // slug characters only
        #expect(EndpointURL.looksLikeToken("0123456789abcdef"))              // 16, digits
        #expect(EndpointURL.looksLikeToken("1234567890123456"))              // 16, a long number
        #expect(EndpointURL.looksLikeToken("ABCDEFGHIJKLMNOP"))              // 16, capitals
        #expect(EndpointURL.looksLikeToken("abcdefghijklmnop%41"))           // percent-encoded
        #expect(EndpointURL.looksLikeToken("abcdefghijklmnopqrstuvwxyzabcdef")) // 32 of anything
        #expect(!EndpointURL.looksLikeToken(""))
    }

    @Test("url: env:NAME and url: file:PATH are read like secrets and checked like an inline URL")
    func urlReferences() throws {
        let dir = NSTemporaryDirectory() + "hookspool-url-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let slack = "https://hooks.slack.com/services/T0ABC/B0DEF/\(Self.slackToken)"
        try Data("\(slack)\n".utf8).write(to: URL(fileURLWithPath: dir + "/orders.url"))

        let fromEnv = try Config.parse(yaml: Self.yaml(url: "env:ORDERS_URL"), file: "c", baseDirectory: dir, environment: ["ORDERS_URL": slack])
        #expect(fromEnv.endpoints.first?.url.requestURL == slack)
        #expect(fromEnv.endpoints.first?.url.redacted == "https://hooks.slack.com/services/T0ABC/B0DEF/***")
        let fromFile = try Config.parse(yaml: Self.yaml(url: "file:orders.url"), file: "c", baseDirectory: dir)
        #expect(fromFile.endpoints.first?.url.requestURL == slack)
        let absolute = try Config.parse(yaml: Self.yaml(url: "file:\(dir)/orders.url"), file: "c", baseDirectory: "/nonexistent")
        #expect(absolute.endpoints.first?.url.requestURL == slack)
    }

    @Test("url: env: and file: mistakes name line, column and key, and never print the URL", arguments: [
        ("env:MISSING", [:], "environment variable MISSING is not set"),
        ("env:EMPTY", ["EMPTY": ""], "environment variable EMPTY is empty"),
        ("\"env:\"", [:], "env: needs a variable name, e.g. env:ORDERS_URL"),
        ("file:nope.url", [:], "cannot read URL file"),
        ("file:empty.url", [:], "is empty"),
        ("file:two-newlines.url", [:], "spaces or control characters"),
        ("env:HTTP_URL", ["HTTP_URL": "http://hooks.example.com/services/T0ABC/B0DEF/aB3dE5gH7jK9mN1pQ3rS5tV7"], "the URL from env:HTTP_URL: http:// is refused"),
        ("env:LOOP_URL", ["LOOP_URL": "https://127.0.0.1/services/T0ABC/B0DEF/aB3dE5gH7jK9mN1pQ3rS5tV7"], "the URL from env:LOOP_URL: its host is not a public address (loopback)"),
        ("env:LOCAL_URL", ["LOCAL_URL": "https://secret-host.localhost/aB3dE5gH7jK9mN1pQ3rS5tV7"], "the URL from env:LOCAL_URL: its host is a loopback name"),
        ("env:FTP_URL", ["FTP_URL": "ftp://hooks.example.com/aB3dE5gH7jK9mN1pQ3rS5tV7"], "the URL from env:FTP_URL: the URL must start with https://"),
    ] as [(String, [String: String], String)])
    func urlReferenceMistakes(reference: String, environment: [String: String], message: String) throws {
        let dir = NSTemporaryDirectory() + "hookspool-url-mistakes-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("".utf8).write(to: URL(fileURLWithPath: dir + "/empty.url"))
        try Data("https://hooks.example.com/\(Self.slackToken)\n\n".utf8).write(to: URL(fileURLWithPath: dir + "/two-newlines.url"))

        let found = issues(Self.yaml(url: reference), environment: environment, baseDirectory: dir)
        #expect(found.count == 1, "\(found)")
        let issue = try #require(found.first)
        #expect(issue.file == "config.yaml")
        #expect(issue.line == 4)
        #expect(issue.column != nil)
        #expect(issue.key == "endpoints[0] (orders).url")
        #expect(issue.message.contains(message), "\(issue.message)")
        for leaked in [Self.slackToken, "127.0.0.1", "secret-host", "hooks.example.com"] {
            #expect(!issue.description.contains(leaked), "\(leaked) in \(issue.description)")
        }
    }

    @Test("several mistakes are reported together, in file order")
    func manyMistakes() {
        let yaml = """
            delivery:
              timeout: soon
            endpoints:
              - name: "bad name"
                url: http://x.example.com/
                events: ["*"]
                secret: env:NOPE
            """
        let found = issues(yaml)
        #expect(found.map(\.line) == [2, 4, 5, 7])
    }

    @Test("durations and sizes", arguments: [
        ("250ms", 250), ("10s", 10_000), ("1.5s", 1_500), ("5m", 300_000), ("1h", 3_600_000), ("2d", 172_800_000), ("0s", 0),
    ])
    func durations(text: String, milliseconds: Int64) {
        #expect(ConfigValues.duration(text)?.milliseconds == milliseconds)
    }

    @Test("not durations", arguments: ["", "10", "s", "1.s", ".5s", "-1s", "1 s", "10sec", "1e3s", "5w"])
    func notDurations(text: String) {
        #expect(ConfigValues.duration(text) == nil)
    }

    @Test("sizes")
    func sizes() {
        #expect(ConfigValues.size("1024") == 1024)
        #expect(ConfigValues.size("512KiB") == 524_288)
        #expect(ConfigValues.size("1MiB") == 1_048_576)
        #expect(ConfigValues.size("2GiB") == 2_147_483_648)
        #expect(ConfigValues.size("100B") == 100)
        for bad in ["", "1MB", "1.5MiB", "-1", "KiB", "1 MiB", "99999999999999999999"] {
            #expect(ConfigValues.size(bad) == nil, "\(bad)")
        }
    }
}
