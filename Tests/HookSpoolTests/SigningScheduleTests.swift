import Foundation
import NIOHTTP1
import Testing
import WebhookSignature
@testable import HookSpool

/// Rotation windows: a secret signs only between its `not_before` and `not_after`.
@Suite("Rotation windows")
struct SigningScheduleTests {
    static let old = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
    static let new = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let key = "whsk_8ZO0BM+5TrzCbbievWzMvZMlH1Y2K8b06coS0E+YAaw="

    /// The `webhook-signature` value `secrets` give for a fixed message.
    static func signature(_ signer: WebhookSigner?) -> String? {
        signer?.headers(id: "evt_1", eventType: "t", timestamp: 1, body: Array("{}".utf8))[2].value
    }

    static func signature(_ secrets: [String]) throws -> String? {
        signature(try WebhookSigner(scheme: .standard, secrets: secrets))
    }

    @Test("each moment signs with exactly the secrets whose window holds it, both ends included; changes fall where the windows say")
    func stretches() throws {
        let schedule = try SigningSchedule(
            scheme: .standard, secrets: [Self.old, Self.new, Self.key],
            windows: [.init(notAfter: 100), .init(notBefore: 50), .init(notBefore: 200, notAfter: 300)]
        )
        #expect(schedule.valid(at: 0) == [0])
        #expect(schedule.valid(at: 49) == [0])
        #expect(schedule.valid(at: 50) == [0, 1])
        #expect(schedule.valid(at: 100) == [0, 1])
        #expect(schedule.valid(at: 101) == [1])
        #expect(schedule.valid(at: 250) == [1, 2])
        #expect(schedule.valid(at: 301) == [1])
        #expect(schedule.nextChange(after: 0) == 50)
        #expect(schedule.nextChange(after: 50) == 101)
        #expect(schedule.nextChange(after: 300) == 301)
        #expect(schedule.nextChange(after: 301) == nil)
        #expect(Self.signature(schedule.signer(at: 10)) == (try Self.signature([Self.old])))
        #expect(Self.signature(schedule.signer(at: 60)) == (try Self.signature([Self.old, Self.new])))
        #expect(Self.signature(schedule.signer(at: 101)) == (try Self.signature([Self.new])))
        #expect(Self.signature(schedule.signer(at: 250)) == (try Self.signature([Self.new, Self.key])))
        #expect(schedule.versions == ["v1", "v1", "v1a"])

        let ending = try SigningSchedule(scheme: .standard, secrets: [Self.old], windows: [.init(notAfter: 100)])
        #expect(ending.signer(at: 100) != nil)
        #expect(ending.signer(at: 101) == nil)
    }

    @Test("config: mappings with value, not_before and not_after; a secret past not_after no longer signs; mistakes name the key")
    func config() throws {
        func yaml(_ secret: String) -> String {
            """
            endpoints:
              - name: orders
                url: https://hooks.example.com/in
                events: ["*"]
                secret:
            \(secret)
            """
        }
        let loaded = try Config.parse(yaml: yaml("""
                  - {value: env:OLD_SECRET, not_after: 2020-01-01T00:00:00Z}
                  - value: env:NEW_SECRET
                    not_before: 2019-12-01T00:00:00+01:00
                  - {value: \(Self.key), not_before: 2999-01-01T00:00:00Z}
            """), file: "config.yaml", baseDirectory: "/tmp", environment: ["OLD_SECRET": Self.old, "NEW_SECRET": Self.new])
        let signing = try #require(loaded.endpoints.first?.signing)
        #expect(signing.count == 3)
        #expect(signing.windows[0] == .init(notAfter: 1_577_836_800))
        #expect(signing.windows[1] == .init(notBefore: 1_575_154_800))
        let now = Int64(Date().timeIntervalSince1970)
        #expect(signing.valid(at: now) == [1])
        #expect(Self.signature(signing.signer(at: now)) == (try Self.signature([Self.new])), "the expired secret no longer signs")
        #expect(signing.nextChange(after: now) == 32_472_144_000)

        func issues(_ secret: String) -> [String] {
            do {
                _ = try Config.parse(yaml: yaml(secret), file: "config.yaml", baseDirectory: "/tmp", environment: [:])
                return []
            } catch {
                return error.issues.map { issue in "\(issue.line.map { String($0) } ?? "-") \(issue.key ?? "-"): \(issue.message)" }
            }
        }
        #expect(issues("      - {value: \(Self.old), not_after: 2020-01-01T00:00:00Z}").first?.contains(
            "endpoints[0] (orders).secret: no secret of the list is valid now") == true)
        #expect(issues("      - {value: \(Self.old), not_after: 2020-01-01T00:00:00Z}").first?.contains("every window has ended") == true)
        #expect(issues("      - {value: \(Self.old), not_before: 2999-01-01T00:00:00Z}").first?.contains(
            "the next becomes valid at 2999-01-01T00:00:00Z") == true)
        #expect(issues("      - {value: \(Self.old), not_after: yesterday}") == [
            "6 endpoints[0] (orders).secret[0].not_after: 'yesterday' is not an RFC 3339 date-time (e.g. 2027-01-31T00:00:00Z)",
        ])
        #expect(issues("      - {value: \(Self.old), not_before: 2030-01-02T00:00:00Z, not_after: 2030-01-01T00:00:00Z}").first?.hasSuffix(
            "is before not_before: this secret would never sign") == true)
        #expect(issues("      - {value: \(Self.old), until: 2030-01-01T00:00:00Z}").first?.contains("has other keys") == true)
        // An unquoted `secret: text` in a list is a mapping whose key is the secret: never shown.
        #expect(issues("      - hunter2-secret-text: x").allSatisfy { !$0.contains("hunter2") })
        #expect(issues("      - {not_after: 2030-01-01T00:00:00Z}").first?.contains("endpoints[0] (orders).secret[0].value: missing (required)") == true)
        #expect(issues("      - {value: whpk_e7/sKOQmnvYzWl+s/dsBOdwK/BNmkgR88ofBb6TZ5z8=}").first?.contains("is a whpk_ public key") == true)
        // A secret never appears in a message.
        #expect(issues("      - {value: \(Self.old), not_after: 2020-01-01T00:00:00Z}").allSatisfy { !$0.contains(Self.old) })
    }

    @Test("an attempt after the last secret's not_after is not sent: no_valid_secret, retried, never unsigned")
    func neverUnsigned() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .status(200), clock: clock)
        var endpoint = try scriptedEndpoint(maxAttempts: 2, backoff: "{initial: 1s, max: 1s}")
        let origin = Int64(clock.unixOrigin)
        endpoint.signing = try SigningSchedule(scheme: .standard, secrets: [Self.old], windows: [.init(notAfter: origin - 1)])
        let lane = scriptedLane(endpoint, transport: transport, clock: clock)
        let outcome = await clock.run { await scriptedDispatcher(clock: clock).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(transport.calls.isEmpty, "nothing reached the endpoint")
        #expect(outcome == .failed(DeliveryFailure(attempts: 2, reason: .transport(.noValidSecret))))
        #expect(lane.tally.figures.statusCodes == ["no_valid_secret": 2])
    }

    @Test("check shows the windows, the secrets signing now, the next change, v1 and v1a entries, and a template's sample body; never a secret")
    func checkShows() async throws {
        let ws = try TestWorkspace()
        try Data(#"{"text": "{{type}} {{id}}: {{data.summary}}"}"#.utf8).write(to: URL(fileURLWithPath: ws.root + "/slack.mustache"))
        _ = try ws.writeConfig("""
            endpoints:
              - name: rotating
                url: https://hooks.example.com/in
                events: ["*"]
                secret:
                  - {value: \(Self.old), not_after: 2020-01-01T00:00:00Z}
                  - {value: \(Self.new), not_before: 2020-01-01T00:00:00Z, not_after: 2999-01-01T00:00:00Z}
                  - {value: \(Self.key), not_before: 2999-01-01T00:00:01Z}
                template: slack.mustache
            """)
        let result = try await HookSpoolBinary.run(["check"], in: ws.root)
        #expect(result.status == 0, "\(result.stderr)")
        for expected in [
            "signature:  standard, 3 secrets (rotation): #1 v1, #2 v1, #3 v1a",
            "#1: until 2020-01-01T00:00:00Z", "#2: from 2020-01-01T00:00:00Z until 2999-01-01T00:00:00Z", "#3: from 2999-01-01T00:00:01Z",
            "signing now: #2", "next change: 2999-01-01T00:00:01Z, then #3",
            "body:       template slack.mustache, content_type application/json (values escaped as JSON strings)",
            #"for a sample event (valid JSON): {"text": "sample.event evt_sample: a \"quoted\" summary\nover two lines"}"#,
        ] {
            #expect(result.stdout.contains(expected), "missing \(expected) in: \(result.stdout)")
        }
        for secret in [Self.old, Self.new, Self.key] {
            #expect(!(result.stdout + result.stderr).contains(secret))
        }
    }
}
