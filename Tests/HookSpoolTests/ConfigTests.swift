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
