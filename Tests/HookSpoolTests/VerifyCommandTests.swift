import Foundation
import HookSpoolReceiver
import Testing
import WebhookSignature

/// `hookspool verify` and `hookspool secret`: header parsing, and the real binary's output and exit codes.
@Suite("hookspool verify and secret")
struct VerifyCommandTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    // MARK: Header parsing

    @Test("'Name: value' splits at the first colon and trims spaces and tabs")
    func headerLine() throws {
        let plain = try HeaderLine("webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek")
        #expect(plain.name == "webhook-id" && plain.value == "msg_p5jXN8AQM9LWM0D4loKWxJek")
        let colons = try HeaderLine("Stripe-Signature:t=1,v1=ab:cd")
        #expect(colons.name == "Stripe-Signature" && colons.value == "t=1,v1=ab:cd")
        let padded = try HeaderLine(" X-Hub-Signature-256 :\t sha256=00 \t")
        #expect(padded.name == "X-Hub-Signature-256" && padded.value == "sha256=00")
        let empty = try HeaderLine("X-Empty:")
        #expect(empty.name == "X-Empty" && empty.value == "")
        #expect(plain.pair == ("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"))
    }

    @Test("a header without a colon, without a name, or with a name that is not a token is refused", arguments: [
        "webhook-id msg_1", ": value", "  : value", "web hook: x", "wébhook: x", "",
    ])
    func malformedHeader(text: String) {
        #expect(throws: HeaderLine.ParseError.self) { try HeaderLine(text) }
    }

    @Test("a headers file: CRLF or LF, blank and # lines skipped, errors name the line")
    func headersFile() throws {
        let headers = try HeaderLine.parseFile("# captured delivery\r\nwebhook-id: a\r\n\r\n  \nwebhook-timestamp: 1\nwebhook-signature: v1,x\n")
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers.map(\.value) == ["a", "1", "v1,x"])
        do {
            _ = try HeaderLine.parseFile("webhook-id: a\n\nnot a header\n")
            Issue.record("expected a parse error")
        } catch {
            #expect(error.line == 3)
            #expect(error.description.hasPrefix("line 3: 'not a header' is not a header"))
        }
    }

    // MARK: The binary

    /// `--header` arguments for `headers`.
    static func headerArguments(_ headers: [(name: String, value: String)]) -> [String] {
        headers.flatMap { ["--header", "\($0.name): \($0.value)"] }
    }

    @Test("a valid delivery exits 0 and prints valid with the id and timestamp")
    func valid() async throws {
        let ws = try TestWorkspace()
        let body = #"{"id":"evt_v1","type":"order.created","data":{"n":1}}"#
        let now = Int64(Date().timeIntervalSince1970)
        let headers = try WebhookSigner(scheme: .standard, secrets: [Self.secret]).headers(id: "evt_v1", eventType: "order.created", timestamp: now, body: Array(body.utf8))
        let result = try await HookSpoolBinary.run(["verify", "--secret", Self.secret] + Self.headerArguments(headers), in: ws.root, stdin: body)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "valid id=evt_v1 timestamp=\(now)\n")
    }

    @Test("Standard Webhooks vector A verifies from a headers file and a body file, with an env: secret")
    func vectorFromFiles() async throws {
        let ws = try TestWorkspace()
        try Data(#"{"test": 2432232314}"#.utf8).write(to: URL(fileURLWithPath: ws.root + "/body.json"))
        try Data("""
            webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\r
            webhook-timestamp: 1614265330\r
            webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\r

            """.utf8).write(to: URL(fileURLWithPath: ws.root + "/headers.txt"))
        let arguments = ["verify", "--secret", "env:VERIFY_TEST_SECRET", "--headers-file", "headers.txt", "--body-file", "body.json"]
        let environment = ["VERIFY_TEST_SECRET": Self.secret]
        // Signed in 2021: valid only with a tolerance that reaches back that far.
        let stale = try await HookSpoolBinary.run(arguments, in: ws.root, environment: environment)
        #expect(stale.status == 1)
        #expect(stale.stdout.hasPrefix("invalid (timestampTooOld): The webhook-timestamp header is older"), "\(stale.stdout)")
        let result = try await HookSpoolBinary.run(arguments + ["--tolerance", "36500d"], in: ws.root, environment: environment)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "valid id=msg_p5jXN8AQM9LWM0D4loKWxJek timestamp=1614265330\n")
    }

    @Test("GitHub's documented example verifies with --scheme github")
    func github() async throws {
        let ws = try TestWorkspace()
        let result = try await HookSpoolBinary.run(
            ["verify", "--scheme", "github", "--secret", "It's a Secret to Everybody",
             "--header", "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"],
            in: ws.root,
            stdin: "Hello, World!"
        )
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == "valid\n")
    }

    @Test("a tampered body, a wrong secret, or a missing header exits 1 with the reason")
    func invalid() async throws {
        let ws = try TestWorkspace()
        let body = #"{"id":"evt_t","type":"order.created","data":{"amount":100}}"#
        let headers = try WebhookSigner(scheme: .stripe, secrets: ["sk-test"]).headers(
            id: "evt_t", eventType: "order.created", timestamp: Int64(Date().timeIntervalSince1970), body: Array(body.utf8)
        )
        let base = ["verify", "--scheme", "stripe", "--secret", "sk-test"]
        let good = try await HookSpoolBinary.run(base + Self.headerArguments(headers), in: ws.root, stdin: body)
        #expect(good.status == 0 && good.stdout.hasPrefix("valid id=evt_t timestamp="), "\(good.stdout)\(good.stderr)")

        let tampered = try await HookSpoolBinary.run(base + Self.headerArguments(headers), in: ws.root, stdin: body.replacingOccurrences(of: "100", with: "1000"))
        #expect(tampered.status == 1)
        #expect(tampered.stdout.hasPrefix("invalid (noMatchingSignature): No signature matches the body"), "\(tampered.stdout)")

        let wrongSecret = try await HookSpoolBinary.run(["verify", "--scheme", "stripe", "--secret", "sk-other"] + Self.headerArguments(headers), in: ws.root, stdin: body)
        #expect(wrongSecret.status == 1)
        #expect(wrongSecret.stdout.contains("noMatchingSignature"))

        let missing = try await HookSpoolBinary.run(base, in: ws.root, stdin: body)
        #expect(missing.status == 1)
        #expect(missing.stdout.hasPrefix("invalid (missingHeader): The Stripe-Signature header is missing"), "\(missing.stdout)")
        #expect(!missing.stdout.contains("sk-test") && !missing.stderr.contains("sk-test"), "secrets never appear in output")
    }

    /// Command lines that must fail, and their exit codes.
    static let exitCases: [([String], Int32)] = [
        (["verify"], 64),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--header", "webhook-id msg_1"], 64),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--scheme", "md5"], 64),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--tolerance", "forever"], 64),
        (["verify", "--secret", "env:HOOKSPOOL_VERIFY_TEST_UNSET"], 65),
        (["verify", "--secret", "not-a-whsec-secret"], 65),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--headers-file", "bad-headers.txt"], 65),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--body-file", "no-such-body.json"], 74),
        (["verify", "--secret", "file:no-such-secret.txt"], 65),
        (["verify", "--secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "--headers-file", "no-such-headers.txt"], 74),
    ]

    @Test("usage mistakes exit 64, unusable secrets and header files 65, unreadable files 74", arguments: exitCases)
    func exitCodes(arguments: [String], expected: Int32) async throws {
        let ws = try TestWorkspace()
        try Data("webhook-id: a\nthis line is not a header\n".utf8).write(to: URL(fileURLWithPath: ws.root + "/bad-headers.txt"))
        let result = try await HookSpoolBinary.run(arguments, in: ws.root, stdin: "{}")
        #expect(result.status == expected, "\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.hasPrefix("valid"))
        #expect(!result.stderr.contains("not-a-whsec-secret"), "secrets never appear in messages")
    }

    @Test("secret prints a new whsec_ secret of 24 random bytes each time")
    func secret() async throws {
        let ws = try TestWorkspace()
        let first = try await HookSpoolBinary.run(["secret"], in: ws.root)
        let second = try await HookSpoolBinary.run(["secret"], in: ws.root)
        #expect(first.status == 0 && second.status == 0)
        let secret = first.stdout.trimmingCharacters(in: .newlines)
        #expect(secret.hasPrefix("whsec_"))
        #expect(try WebhookSecret.decodeStandard(secret).count == 24)
        #expect(first.stdout != second.stdout)
        _ = try WebhookVerifier(scheme: .standard, secrets: [secret])
    }

    @Test("secret --asymmetric prints a whsk_ key and its whpk_ key; verify --secret whpk_… accepts a v1a delivery signed with it, and not a forged one")
    func asymmetric() async throws {
        let ws = try TestWorkspace()
        let printed = try await HookSpoolBinary.run(["secret", "--asymmetric"], in: ws.root)
        #expect(printed.status == 0, "\(printed.stderr)")
        let lines = printed.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        let secretKey = try #require(lines.first), publicKey = try #require(lines.last)
        #expect(secretKey.hasPrefix("whsk_") && publicKey.hasPrefix("whpk_"))
        #expect(try WebhookSecret.publicKey(of: secretKey) == publicKey)

        let body = #"{"id":"evt_v1a","type":"order.created","data":{"n":1}}"#
        let now = Int64(Date().timeIntervalSince1970)
        let headers = try WebhookSigner(scheme: .standard, secrets: [secretKey]).headers(id: "evt_v1a", eventType: "order.created", timestamp: now, body: Array(body.utf8))
        #expect(headers[2].value.hasPrefix("v1a,"))
        let environment = ["VERIFY_PUBLIC_KEY": publicKey]
        let valid = try await HookSpoolBinary.run(
            ["verify", "--secret", "env:VERIFY_PUBLIC_KEY"] + Self.headerArguments(headers), in: ws.root, stdin: body, environment: environment
        )
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")
        #expect(valid.stdout == "valid id=evt_v1a timestamp=\(now)\n")

        // Signed with another key pair's secret key: a genuine ed25519 signature, but not under this public key.
        let forger = WebhookSecret.generateKeyPair().secretKey
        let forged = try WebhookSigner(scheme: .standard, secrets: [forger]).headers(id: "evt_v1a", eventType: "order.created", timestamp: now, body: Array(body.utf8))
        let rejected = try await HookSpoolBinary.run(
            ["verify", "--secret", "env:VERIFY_PUBLIC_KEY"] + Self.headerArguments(forged), in: ws.root, stdin: body, environment: environment
        )
        #expect(rejected.status == 1)
        #expect(rejected.stdout.hasPrefix("invalid (noMatchingSignature)"), "\(rejected.stdout)")
        let tampered = try await HookSpoolBinary.run(
            ["verify", "--secret", "env:VERIFY_PUBLIC_KEY"] + Self.headerArguments(headers), in: ws.root, stdin: body + " ", environment: environment
        )
        #expect(tampered.status == 1)
        #expect(!(rejected.stdout + rejected.stderr + tampered.stdout + tampered.stderr).contains(publicKey))
    }
}
