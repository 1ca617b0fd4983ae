import Foundation
import Testing
@testable import HookSpool

/// Endpoint TLS settings: a private CA to trust and a client certificate for mutual TLS.
@Suite("TLS")
struct TLSTests {
    /// A workspace holding the fixtures' PEM files.
    static func workspace() throws -> TestWorkspace {
        let ws = try TestWorkspace()
        try TLSFixtures.write(to: ws.root)
        return ws
    }

    static func yaml(_ tls: String, url: String = "https://hooks.example.com/in") -> String {
        """
        endpoints:
          - name: orders
            url: \(url)
            events: ["*"]
            secret: \(ConfigTests.secret)
            tls: \(tls)
        """
    }

    @Test("ca_file, cert_file and key_file load, relative to the config's folder")
    func loads() throws {
        let ws = try Self.workspace()
        let config = try ws.config(Self.yaml("{ca_file: ca.pem, cert_file: client.pem, key_file: client.key}"))
        let tls = try #require(config.endpoints.first?.tls)
        let folder = URL(fileURLWithPath: ws.root).standardizedFileURL.path
        #expect(tls.caFile == "\(folder)/ca.pem")
        #expect(tls.certFile == "\(folder)/client.pem")
        #expect(tls.keyFile == "\(folder)/client.key")
        #expect(tls.trustRoots.count == 1)
        #expect(tls.certificateChain.count == 1)
        #expect(tls.privateKey != nil)
    }

    @Test("without tls an endpoint has none")
    func absent() throws {
        let ws = try Self.workspace()
        let config = try ws.config(ConfigTests.yaml())
        #expect(config.endpoints.first?.tls == nil)
    }

    @Test("mistakes name the line and the key", arguments: [
        ("{ca_file: missing.pem}", "tls.ca_file", "cannot read"),
        ("{ca_file: client.key}", "tls.ca_file", "PEM certificate"),
        ("{cert_file: client.pem}", "tls.key_file", "go together"),
        ("{key_file: client.key}", "tls.cert_file", "go together"),
        ("{cert_file: client.pem, key_file: ca.pem}", "tls.key_file", "private key"),
        ("{ca_file: ca.pem, crt_file: client.pem}", "tls.crt_file", "unknown key"),
        ("{}", "tls", "give ca_file"),
        ("ca.pem", "tls", "mapping"),
    ])
    func mistake(tls: String, key: String, message: String) throws {
        let ws = try Self.workspace()
        var found: [ConfigIssue] = []
        do {
            _ = try ws.config(Self.yaml(tls))
        } catch {
            found = error.issues
        }
        #expect(found.count == 1, "\(found)")
        let issue = found.first
        #expect(issue?.line == 6, "\(String(describing: issue))")
        #expect(issue?.key == "endpoints[0] (orders).\(key)")
        #expect(issue?.message.contains(message) == true, "\(String(describing: issue?.message))")
    }

    @Test("tls on an http:// endpoint is a mistake")
    func httpEndpoint() throws {
        let ws = try Self.workspace()
        var found: [ConfigIssue] = []
        do {
            _ = try ws.config(Self.yaml("{ca_file: ca.pem}", url: "http://127.0.0.1:9/in") + "\n    allow_http: true\n    allow_private: true")
        } catch {
            found = error.issues
        }
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.key == "endpoints[0] (orders).tls")
        #expect(found.first?.message.contains("https://") == true)
    }

    @Test("mutual TLS to a private CA's server delivers; an endpoint without the CA fails with tls_error")
    func deliversOverMutualTLS() async throws {
        let ws = try Self.workspace()
        try ws.drop("a.ndjson", (1...20).map { #"{"id":"evt_\#($0)","type":"order.created","data":{}}"# })
        let outcome = try await TLSTestServer.run(requireClientCertificate: true) { server in
            let trusted = """
                  - name: trusted
                    url: https://127.0.0.1:\(server.port)/trusted
                    events: ["*"]
                    secret: \(ConfigTests.secret)
                    allow_private: true
                    tls: {ca_file: ca.pem, cert_file: client.pem, key_file: client.key}
                """
            let untrusted = """
                  - name: untrusted
                    url: https://127.0.0.1:\(server.port)/untrusted
                    events: ["*"]
                    secret: \(ConfigTests.secret)
                    allow_private: true
                    max_attempts: 1
                """
            let outcome = try await ws.run(testConfig(endpoints: trusted + "\n" + untrusted))
            let paths = server.paths
            #expect(paths.count == 20)
            #expect(paths.allSatisfy { $0 == "/trusted" })
            return outcome
        }
        let endpoints = outcome.report.endpoints
        #expect(endpoints.first { $0.name == "trusted" }?.delivered == 20)
        let untrusted = endpoints.first { $0.name == "untrusted" }
        #expect(untrusted?.delivered == 0)
        #expect(untrusted?.failed == 20)
        #expect(untrusted?.statusCodes["tls_error"] != nil, "\(String(describing: untrusted?.statusCodes))")
    }

    @Test("a client without a certificate is refused by a server that requires one")
    func mutualTLSNeedsTheCertificate() async throws {
        let ws = try Self.workspace()
        try ws.drop("a.ndjson", [#"{"id":"evt_1","type":"order.created","data":{}}"#])
        let outcome = try await TLSTestServer.run(requireClientCertificate: true) { server in
            let endpoint = """
                  - name: no-cert
                    url: https://127.0.0.1:\(server.port)/
                    events: ["*"]
                    secret: \(ConfigTests.secret)
                    allow_private: true
                    max_attempts: 1
                    tls: {ca_file: ca.pem}
                """
            let outcome = try await ws.run(testConfig(endpoints: endpoint))
            #expect(server.paths.isEmpty)
            return outcome
        }
        #expect(outcome.report.totals.delivered == 0)
        #expect(outcome.report.totals.failed == 1)
    }
}
