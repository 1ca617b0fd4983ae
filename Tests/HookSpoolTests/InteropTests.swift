import Foundation
import Testing
@testable import HookSpool

/// Real batches delivered to the Python receivers in `examples/receivers/`, which verify every
/// scheme with code nobody on this project wrote: the official `standardwebhooks` package, the
/// `cryptography` package's ed25519 (for `v1a`), the Python standard library, and the `stripe`
/// package's own verifier.
///
/// Needs `python3` on PATH with `python3 -m pip install -r examples/receivers/requirements.txt`
/// (`.ci/run` does it). Without the packages the tests fail when `CI=true`, and are skipped, with
/// that command in the skip message, on a developer machine.
@Suite("Interop: Python receivers verify hookspool's deliveries")
struct InteropTests {
    /// One scheme: the receiver to start and the secrets on both sides.
    struct Case: Sendable, CustomTestStringConvertible {
        var scheme: String
        var script: String
        var scriptArguments: [String]
        /// What hookspool signs with, in config order.
        var endpointSecrets: [String]
        /// One receiver per entry, each knowing only these secrets: with rotated secrets every
        /// signature hookspool sends must verify on its own.
        var receiverSecrets: [[String]]
        /// A secret no receiver knows, for the negative control.
        var wrongSecret: String
        /// The third-party verifier named in the receiver's counts; each delivery must pass it.
        var verifierCount: String

        var testDescription: String { scheme + (verifierCount == "cryptography" ? " v1a" : "") }
    }

    static let cases: [Case] = [
        Case(
            scheme: "standard",
            script: "standard_receiver.py",
            scriptArguments: [],
            // A v1a key between them: the library must pass over its entry.
            endpointSecrets: [
                "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD", "whsk_zOsT9MdReLFYCd0tsgrQgktQJlEzAMHo+4EOcqn/b/4=",
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            ],
            receiverSecrets: [["whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"], ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]],
            wrongSecret: "whsec_3q2+796tvu/erb7v3q2+796tvu/e",
            verifierCount: "standardwebhooks"
        ),
        Case(
            scheme: "standard",
            script: "standard_receiver.py",
            scriptArguments: [],
            // v1a: ed25519 keys (made by Python's cryptography), a v1 secret between them; each
            // receiver holds one public key only, and verifies with cryptography's ed25519.
            endpointSecrets: [
                "whsk_8ZO0BM+5TrzCbbievWzMvZMlH1Y2K8b06coS0E+YAaw=", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
                "whsk_cULMzyG8dp8Z4CBqt1GFX5YBuOtgkNhiYbk91XAU8HU=",
            ],
            receiverSecrets: [["whpk_e7/sKOQmnvYzWl+s/dsBOdwK/BNmkgR88ofBb6TZ5z8="], ["whpk_bIg+actjr617Q8rgoNFqqOqMN9By2PNn9Sa5iXbfFzg="]],
            // A key pair of its own: its signatures are genuine ed25519, under a key no receiver holds.
            wrongSecret: "whsk_zOsT9MdReLFYCd0tsgrQgktQJlEzAMHo+4EOcqn/b/4=",
            verifierCount: "cryptography"
        ),
        Case(
            scheme: "hmac-sha256",
            script: "stdlib_receiver.py",
            scriptArguments: ["--scheme", "hmac-sha256"],
            // Two secrets: hmac-sha256 has room for one signature, made with the first.
            endpointSecrets: ["new secret – ünïcode key", "old-secret"],
            receiverSecrets: [["new secret – ünïcode key"]],
            wrongSecret: "not the secret",
            verifierCount: "stdlib"
        ),
        Case(
            scheme: "github",
            script: "stdlib_receiver.py",
            scriptArguments: ["--scheme", "github"],
            endpointSecrets: ["It's a Secret to Everybody", "old-secret"],
            receiverSecrets: [["It's a Secret to Everybody"]],
            wrongSecret: "It's a Secret to Nobody",
            verifierCount: "stdlib"
        ),
        Case(
            scheme: "stripe",
            script: "stdlib_receiver.py",
            // Every delivery must pass both the standard library check and the stripe package's.
            scriptArguments: ["--scheme", "stripe", "--stripe-package", "require"],
            // Stripe keys are the secret's UTF-8 bytes, `whsec_` included.
            endpointSecrets: ["whsec_stripe_style_new_1a2b3c", "whsec_stripe_style_old_4d5e6f"],
            receiverSecrets: [["whsec_stripe_style_new_1a2b3c"], ["whsec_stripe_style_old_4d5e6f"]],
            wrongSecret: "whsec_stripe_style_wrong_000000",
            verifierCount: "stripe_package"
        ),
    ]

    /// Events that exercise the body bytes: verbatim lines with odd spacing, lines hookspool
    /// completes (no timestamp, no data), non-ASCII text, escapes, extra fields, a large body.
    static let events: [(id: String, line: String)] = {
        let big = String(repeating: "0123456789abcdef", count: 2048)
        let lines = [
            #"{"id":"evt_interop_01","type":"order.created","timestamp":"2026-01-01T00:00:00Z","data":{"order_id":1}}"#,
            #"{"id":"evt_interop_02","type":"order.paid","timestamp":"2026-01-01T00:00:01Z","data":{"order_id":2,"amount":"12.50"}}"#,
            #"{ "id" : "evt_interop_03", "type": "order.paid",  "timestamp": "2026-01-01T00:00:02Z", "data": { "spaced": true } }"#,
            #"{"id":"evt_interop_04","type":"user.signup","data":{"name":"Zoë 🚀 — ünïcode, 日本語"}}"#,
            #"{"id":"evt_interop_05","type":"user.signup","timestamp":"2026-01-01T00:00:04Z","data":{"escaped":"caf\u00e9 \"quoted\" \\ back\/slash \n newline"}}"#,
            #"{"id":"evt_interop_06","type":"invoice.created","extra":[1,2.5,{"k":null}],"note":"no data, no timestamp"}"#,
            #"{"id":"evt_interop_07","type":"invoice.created","timestamp":"2026-01-01T00:00:06Z","data":{"blob":"\#(big)"}}"#,
            #"{"id":"evt_interop_08","type":"order.created","timestamp":"2026-01-01T00:00:07Z","data":null}"#,
            #"{"id":"evt_interop_09","type":"order.created","timestamp":"2026-01-01T00:00:08Z","data":[]}"#,
            #"{"id":"evt_interop_10","type":"a.b.c","timestamp":"2026-01-01T00:00:09Z","data":{"nested":{"deep":[{"x":1}]}}}"#,
            #"{"id":"evt_interop_11","type":"order.refunded","timestamp":"2026-01-01T00:00:10Z","data":{"emoji":"\ud83d\ude80"}}"#,
            #"{"id":"evt_interop_12","type":"webhook.test","timestamp":"2026-01-01T00:00:11Z","data":{}}"#,
        ]
        return lines.enumerated().map { index, line in (String(format: "evt_interop_%02d", index + 1), line) }
    }()

    @Test(
        "every delivery verifies with a third-party implementation",
        .enabled("python3 with standardwebhooks and stripe: python3 -m pip install -r examples/receivers/requirements.txt") {
            await PythonEnvironment.shouldRun
        },
        .timeLimit(.minutes(2)),
        arguments: cases
    )
    func interop(_ scheme: Case) async throws {
        try await PythonEnvironment.require()
        let ws = try TestWorkspace()
        var started: [PythonReceiver] = []
        defer { started.forEach { $0.kill() } }
        for (index, secrets) in scheme.receiverSecrets.enumerated() {
            // Secrets reach the receiver through env: references, not argv.
            var environment: [String: String] = [:]
            var arguments = scheme.scriptArguments + ["--out", "\(ws.root)/received-\(index).ndjson"]
            for (n, secret) in secrets.enumerated() {
                environment["INTEROP_SECRET_\(n)"] = secret
                arguments += ["--secret", "env:INTEROP_SECRET_\(n)"]
            }
            // Started and listening: `start` waits for its `listening on` line.
            started.append(try await PythonReceiver.start(
                script: PythonEnvironment.receiversDirectory + "/" + scheme.script,
                arguments: arguments,
                environment: environment,
                outPath: "\(ws.root)/received-\(index).ndjson"
            ))
        }
        let receivers = started

        func config(secrets: [String]) -> String {
            let list = "[" + secrets.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            return testConfig(
                endpoints: receivers.enumerated().map { index, receiver in
                    testEndpoint(name: "python-\(index)", port: receiver.port, secret: list, signature: scheme.scheme)
                }.joined(separator: "\n"),
                timeout: "10s"
            )
        }

        // The real batch: every event to every receiver, signed with every secret the scheme carries.
        try ws.drop("interop.ndjson", Self.events.map(\.line))
        let outcome = try await ws.run(config(secrets: scheme.endpointSecrets))
        let n = Self.events.count
        let logs = { receivers.map { $0.log() }.joined(separator: "\n") }
        #expect(outcome.exitStatus == .ok, "\(outcome.report.failures)\n\(logs())")
        #expect(outcome.report.totals.events == n)
        #expect(outcome.report.totals.deliveries == n * receivers.count)
        #expect(outcome.report.totals.delivered == n * receivers.count, "\(outcome.report.failures)\n\(logs())")
        #expect(outcome.report.totals.failed == 0)
        for endpoint in outcome.report.endpoints {
            #expect(endpoint.statusCodes["401"] == nil, "\(endpoint.name) answered 401: \(logs())")
            #expect(endpoint.statusCodes["200"] == n, "\(endpoint.name): \(endpoint.statusCodes)")
        }
        #expect(ws.files("done") == ["interop.ndjson"])

        let expectedIDs = Self.events.map(\.id).sorted()
        for receiver in receivers {
            let lines = try await receiver.waitForOutLines(n)
            let ids = lines.compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
            }
            #expect(ids.sorted() == expectedIDs, "every event id exactly once in \(receiver.outPath)")
        }

        // Negative control: a receiver that accepted everything would pass the above. Signed
        // with a secret it does not know, a delivery is answered 401 and not stored.
        try ws.drop("forged.ndjson", [#"{"id":"evt_forged","type":"order.created","data":{}}"#])
        let forged = try await ws.run(config(secrets: [scheme.wrongSecret]))
        #expect(forged.exitStatus == .failures)
        #expect(forged.report.totals.failed == receivers.count)
        for endpoint in forged.report.endpoints {
            #expect(endpoint.statusCodes == ["401": 1], "\(endpoint.name): \(endpoint.statusCodes)")
        }

        for receiver in receivers {
            let counts = try await receiver.stop()
            #expect(counts["verified"] == n, "\(counts)")
            #expect(counts[scheme.verifierCount] == n, "each delivery passed \(scheme.verifierCount): \(counts)")
            #expect(counts["duplicates"] == 0, "\(counts)")
            #expect(counts["rejected"] == 1, "\(counts)")
            #expect(counts["invalid"] == 0, "\(counts)")
            #expect(try receiver.outLines().count == n, "the forged delivery was not stored")
        }
    }
}
