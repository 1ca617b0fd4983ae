import Foundation
import HookSpoolReceiver
import NIOHTTP1
import Testing
@testable import HookSpool

/// Egress proxies: `delivery.proxy`, an endpoint's `proxy`, `delivery.no_proxy`, through real
/// proxies (tinyproxy for HTTP, microsocks for SOCKS5); a proxy's failure is `proxy_error`.
@Suite("Egress proxy")
struct ProxyTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    @Test("http:// and socks5:// proxy URLs parse; credentials become Proxy-Authorization and are masked")
    func parses() throws {
        let http = try EgressProxy(parsing: "http://hook:s3cret@Proxy.Internal:3128")
        #expect(http.kind == .http && http.host == "proxy.internal" && http.port == 3128)
        #expect(http.authorization == "Basic " + Data("hook:s3cret".utf8).base64EncodedString())
        #expect(http.redacted == "http://***@proxy.internal:3128")
        let socks = try EgressProxy(parsing: "socks5://[::1]:1080")
        #expect(socks.kind == .socks5 && socks.host == "::1" && socks.redacted == "socks5://[::1]:1080" && socks.authorization == nil)
    }

    @Test("what is not a usable proxy is refused, saying why", arguments: [
        ("http://proxy.internal", "give the proxy's port"), ("https://proxy.internal:443", "only http:// and socks5://"),
        ("ftp://proxy:21", "only http:// and socks5://"), ("socks5://u:p@proxy:1080", "SOCKS5 credentials are not supported"),
        ("http://proxy:3128/path", "only scheme://host:port"), ("http://proxy:3128?x=1", "only scheme://host:port"),
        ("http://proxy:99999", "between 1 and 65535"), ("proxy:3128", "only http:// and socks5://"), ("http://:3128", "no host"),
    ])
    func refuses(text: String, message: String) {
        #expect {
            _ = try EgressProxy(parsing: text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("no_proxy entries: a host, a .domain suffix, a CIDR or an address; nothing else")
    func noProxyRules() throws {
        func url(_ text: String) throws -> EndpointURL { try EndpointURL(parsing: text) }
        let host = try #require(NoProxyRule("Hooks.Internal"))
        #expect(host.matches(try url("https://hooks.internal/x")))
        #expect(!host.matches(try url("https://a.hooks.internal/x")))
        let domain = try #require(NoProxyRule(".corp.example"))
        #expect(domain.matches(try url("https://corp.example/")))
        #expect(domain.matches(try url("https://a.b.corp.example/")))
        #expect(!domain.matches(try url("https://notcorp.example/")))
        let network = try #require(NoProxyRule("10.0.0.0/8"))
        #expect(network.matches(try url("https://10.1.2.3/")))
        #expect(!network.matches(try url("https://11.0.0.1/")))
        #expect(!network.matches(try url("https://ten.example/")), "a CIDR matches literal addresses only")
        #expect(NoProxyRule("192.0.2.7")?.matches(try url("http://192.0.2.7:8080/")) == true)
        for bad in ["", ".", "a..b", "10.0.0.0/33", "host name", "*", "http://x", "a:b"] {
            #expect(NoProxyRule(bad) == nil, "\(bad)")
        }
    }

    @Test("delivery.proxy is the default; no_proxy and proxy: none go direct; an endpoint's own proxy wins")
    func configResolution() throws {
        let yaml = """
            spool: {dir: ./spool}
            report: {dir: ./reports}
            delivery:
              proxy: env:EGRESS
              no_proxy: [direct.example, .internal, 10.0.0.0/8]
            endpoints:
              - {name: a, url: "https://hooks.example.com/", events: ["*"], secret: \(Self.secret)}
              - {name: b, url: "https://direct.example/", events: ["*"], secret: \(Self.secret)}
              - {name: c, url: "https://x.internal/", events: ["*"], secret: \(Self.secret), allow_private: true}
              - {name: d, url: "https://10.1.2.3/", events: ["*"], secret: \(Self.secret), allow_private: true}
              - {name: e, url: "https://hooks.example.com/e", events: ["*"], secret: \(Self.secret), proxy: none}
              - {name: f, url: "https://direct.example/f", events: ["*"], secret: \(Self.secret), proxy: "socks5://127.0.0.1:1080"}
            """
        let config = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: ["EGRESS": "http://u:pw@egress.internal:3128"])
        #expect(config.delivery.proxy?.redacted == "http://***@egress.internal:3128")
        #expect(config.endpoints.map { $0.proxy?.redacted } == ["http://***@egress.internal:3128", nil, nil, nil, nil, "socks5://127.0.0.1:1080"])
    }

    @Test("a bad proxy is a config error with its line; one given by reference is never quoted")
    func configMistakes() {
        let yaml = testConfig(endpoints: testEndpoint(port: 1, more: "proxy: env:EGRESS")).replacingOccurrences(
            of: "delivery:\n", with: "delivery:\n  no_proxy: [\"bad host\"]\n"
        )
        #expect {
            _ = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: ["EGRESS": "socks5://user:hunter2@proxy:1080"])
        } throws: { error in
            guard let issues = (error as? ConfigError)?.issues else { return false }
            let text = issues.map(\.description).joined(separator: "\n")
            return issues.count == 2 && text.contains("delivery.no_proxy[0]") && text.contains("the proxy URL from env:EGRESS: SOCKS5 credentials")
                && !text.contains("hunter2") && !text.contains("user:")
        }
    }

    @Test("a proxy given by reference is never quoted, not even a part read as a scheme or host", arguments: [
        "alice:s3cret@proxy.internal:3128", "http://s3cret.internal", "socks5://alice:s3cret@proxy.internal:1080",
    ])
    func referenceNeverQuoted(value: String) {
        let yaml = testConfig(endpoints: testEndpoint(port: 1, more: "proxy: env:EGRESS"))
        #expect {
            _ = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: ["EGRESS": value])
        } throws: { error in
            let text = "\(error)"
            return text.contains("the proxy URL from env:EGRESS") && !text.contains("alice") && !text.contains("s3cret")
        }
    }

    @Test("an endpoint host longer than any DNS name is a config error (a SOCKS5 request could not carry it)")
    func longHost() {
        let host = String(repeating: "a", count: 63) + "." + String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 63) + "."
            + String(repeating: "d", count: 63) + ".example"
        #expect(host.utf8.count > 253)
        #expect {
            _ = try EndpointURL(parsing: "https://\(host)/x")
        } throws: { error in
            "\(error)".contains("longer than 253 bytes")
        }
    }

    @Test("check shows each endpoint's proxy, credentials masked, and the default's no_proxy")
    func checkShowsProxies() async throws {
        let ws = try TestWorkspace()
        _ = try ws.writeConfig("""
            spool: {dir: ./spool}
            report: {dir: ./reports}
            delivery:
              proxy: env:EGRESS
              no_proxy: [.internal, 10.0.0.0/8]
            endpoints:
              - {name: tunnelled, url: "https://hooks.example.com/", events: ["*"], secret: \(Self.secret)}
              - {name: plain, url: "http://hooks.example.com/", events: ["*"], secret: \(Self.secret), allow_http: true}
              - {name: inside, url: "https://x.internal/", events: ["*"], secret: \(Self.secret)}
              - {name: socks, url: "https://hooks.example.com/s", events: ["*"], secret: \(Self.secret), proxy: "socks5://127.0.0.1:1080"}
            """)
        let result = try await HookSpoolBinary.run(["check"], in: ws.root, environment: ["EGRESS": "http://hook:hunter2@egress.internal:3128"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(!output.contains("hunter2") && !output.contains("hook:"), "\(output)")
        for expected in [
            "proxy http://***@egress.internal:3128; no_proxy .internal, 10.0.0.0/8",
            "proxy:      http://***@egress.internal:3128 (HTTP CONNECT; the proxy resolves the host)",
            "proxy:      http://***@egress.internal:3128 (HTTP, absolute-form; the proxy resolves the host)",
            "proxy:      none (direct: no_proxy or proxy: none)",
            "proxy:      socks5://127.0.0.1:1080 (SOCKS5; the proxy resolves the host)",
        ] {
            #expect(output.contains(expected), "missing \(expected) in: \(output)")
        }
    }

    @Test("an http:// endpoint through an HTTP proxy: absolute-form requests with the proxy's credentials; a 407 is proxy_error")
    func httpProxyAbsoluteForm() async throws {
        guard try ProxyServer.available(.http()) else { return }
        let ws = try TestWorkspace()
        // Four each: fewer than open an endpoint's circuit, so that every one is attempted.
        try ws.drop("a.ndjson", (1...4).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let proxy = try await ProxyServer.start(.http(credentials: ("hook", "pr0xy")), in: ws.root)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            // A loopback server in a proxy's place that wants other credentials: it sees the request line as a proxy would.
            let strict = try await ScriptedHTTPServer.start { _ in .answer(status: 407, headers: [("Proxy-Authenticate", "Basic realm=\"egress\"")]) }
            try await strict.serving { strict in
                let config = testConfig(
                    endpoints: [
                        testEndpoint(name: "good", port: receiver.port, path: "/good", more: "proxy: http://hook:pr0xy@127.0.0.1:\(proxy.port)"),
                        testEndpoint(name: "strict", port: receiver.port, path: "/strict", more: "proxy: http://hook:nope@127.0.0.1:\(strict.port)"),
                    ].joined(separator: "\n"),
                    maxAttempts: 1
                )
                let outcome = try await ws.run(config)
                #expect(receiver.requests.count == 4 && receiver.requests.allSatisfy { $0.path == "/good" })
                // tinyproxy says it relayed each request, and kept its credentials to itself.
                #expect(receiver.requests.allSatisfy { $0.header("via")?.contains("tinyproxy") == true }, "\(proxy.log)")
                #expect(receiver.requests.allSatisfy { $0.header("proxy-authorization") == nil })
                let asked = strict.requests.map(\.head)
                #expect(asked.count == 4)
                #expect(asked.allSatisfy { $0.uri == "http://127.0.0.1:\(receiver.port)/strict" }, "absolute-form: \(asked.map(\.uri))")
                #expect(asked.allSatisfy { $0.headers["Proxy-Authorization"] == ["Basic " + Data("hook:nope".utf8).base64EncodedString()] })
                #expect(asked.allSatisfy { $0.headers["Host"] == ["127.0.0.1:\(receiver.port)"] })
                #expect(outcome.report.endpoints.first { $0.name == "strict" }?.statusCodes == ["proxy_error": 4])
                #expect(outcome.report.failures.count == 4)
                #expect(outcome.report.failures.allSatisfy { $0.endpoint == "strict" && $0.lastError == "proxy_error" && $0.lastStatus == nil })
            }
        }
    }

    @Test("an https:// endpoint through an HTTP proxy: a CONNECT tunnel, TLS to the endpoint inside it; refused credentials are proxy_error")
    func httpProxyConnect() async throws {
        guard try ProxyServer.available(.http()) else { return }
        let ws = try TestWorkspace()
        try TLSFixtures.write(to: ws.root)
        try ws.drop("a.ndjson", (1...4).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let proxy = try await ProxyServer.start(.http(credentials: ("hook", "pr0xy")), in: ws.root)
        try await TLSTestServer.run(requireClientCertificate: false) { server in
            func endpoint(_ name: String, password: String) -> String {
                """
                  - name: \(name)
                    url: https://127.0.0.1:\(server.port)/\(name)
                    events: ["*"]
                    secret: \(Self.secret)
                    allow_private: true
                    tls: {ca_file: ca.pem}
                    proxy: http://hook:\(password)@127.0.0.1:\(proxy.port)
                """
            }
            let config = testConfig(endpoints: endpoint("tunnelled", password: "pr0xy") + "\n" + endpoint("refused", password: "nope"), maxAttempts: 1)
            let outcome = try await ws.run(config)
            #expect(server.paths.count == 4 && server.paths.allSatisfy { $0 == "/tunnelled" })
            #expect(proxy.log.contains("CONNECT 127.0.0.1:\(server.port)"), "\(proxy.log)")
            #expect(outcome.report.endpoints.first { $0.name == "refused" }?.statusCodes == ["proxy_error": 4])
            #expect(outcome.report.failures.allSatisfy { $0.endpoint == "refused" && $0.lastError == "proxy_error" })
        }
    }

    @Test("through a SOCKS5 proxy, which resolves the endpoint's name; when the proxy is down, proxy_error (no failing streak), and no_proxy and proxy: none go direct")
    func socksAndDown() async throws {
        guard try ProxyServer.available(.socks5) else { return }
        let ws = try TestWorkspace()
        try ws.drop("a.ndjson", (1...10).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let socks = try await ProxyServer.start(.socks5, in: ws.root)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let endpoints = [
                testEndpoint(name: "socks", port: receiver.port, path: "/socks", more: "proxy: socks5://127.0.0.1:\(socks.port)")
                    .replacingOccurrences(of: "127.0.0.1:\(receiver.port)", with: "localhost:\(receiver.port)"),
                testEndpoint(name: "exempt", port: receiver.port, path: "/exempt"),
                testEndpoint(name: "none", port: receiver.port, path: "/none", more: "proxy: none"),
            ].joined(separator: "\n")
            let config = testConfig(endpoints: endpoints, maxAttempts: 1)
                .replacingOccurrences(of: "delivery:\n", with: "delivery:\n  proxy: socks5://127.0.0.1:\(socks.port)\n  no_proxy: [127.0.0.1]\n")
            let first = try await ws.run(config)
            #expect(first.exitStatus == .ok)
            #expect(Set(first.report.endpoints.map(\.delivered)) == [10])
            #expect(receiver.requests.filter { $0.path == "/socks" }.count == 10)

            try await socks.stop()
            try ws.drop("b.ndjson", (11...15).map { #"{"id":"evt_\#($0)","type":"t"}"# })
            let second = try await ws.run(config)
            #expect(second.exitStatus == .failures)
            let byName = Dictionary(uniqueKeysWithValues: second.report.endpoints.map { ($0.name, $0) })
            #expect(byName["socks"]?.statusCodes == ["proxy_error": 5])
            #expect(byName["exempt"]?.delivered == 5 && byName["none"]?.delivered == 5)
            #expect(second.report.failures.map(\.lastError) == Array(repeating: "proxy_error", count: 5))
            // The proxy's outage is not the endpoint's: no failing streak starts (disable_after would disable it).
            let health = try HealthStore(spoolDirectory: ws.spool).load()
            #expect(health["socks"]?.failingSince == nil)
        }
    }
}
