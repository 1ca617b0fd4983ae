import Dispatch
import Foundation
import Testing
import WebhookSignature

/// Behaviour every scheme shares: sign then verify, tampering, wrong secrets, rotation, timestamps, headers.
@Suite("Every scheme")
struct SchemeTests {
    @Test("Sign then verify", arguments: SignatureScheme.allCases)
    func roundTrip(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verified = try Fixture.verifier(scheme, [secret]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        switch scheme {
        case .standard: #expect(verified == VerifiedWebhook(id: Fixture.id, timestamp: Fixture.timestamp))
        case .hmacSHA256, .stripe: #expect(verified == VerifiedWebhook(id: nil, timestamp: Fixture.timestamp))
        case .github: #expect(verified == VerifiedWebhook(id: nil, timestamp: nil))
        }
    }

    @Test("Headers straight from the signer are accepted", arguments: SignatureScheme.allCases)
    func signerOutputAccepted(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signer(scheme, [secret])
            .headers(id: Fixture.id, eventType: Fixture.eventType, timestamp: Fixture.timestamp, body: Fixture.body)
        _ = try Fixture.verifier(scheme, [secret]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
    }

    @Test("A tampered body is rejected", arguments: SignatureScheme.allCases)
    func tamperedBody(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        var tampered = Fixture.body
        tampered[tampered.count - 3] ^= 0x01
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try Fixture.verifier(scheme, [secret]).verify(headers: headers, body: tampered, now: Fixture.now)
        }
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try Fixture.verifier(scheme, [secret]).verify(headers: headers, body: Fixture.body + [0x20], now: Fixture.now)
        }
    }

    @Test("A wrong secret is rejected", arguments: SignatureScheme.allCases)
    func wrongSecret(scheme: SignatureScheme) throws {
        let (old, new) = Fixture.secrets(for: scheme)
        let headers = try Fixture.signedHeaders(scheme, [old])
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try Fixture.verifier(scheme, [new]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        }
    }

    @Test("Rotation: signed with [old, new]", arguments: SignatureScheme.allCases)
    func rotationSignedWithBoth(scheme: SignatureScheme) throws {
        let (old, new) = Fixture.secrets(for: scheme)
        let headers = try Fixture.signedHeaders(scheme, [old, new])
        _ = try Fixture.verifier(scheme, [old]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        switch scheme {
        case .standard, .stripe:
            // One signature per secret, so a receiver that already switched to the new secret accepts it too.
            _ = try Fixture.verifier(scheme, [new]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        case .hmacSHA256, .github:
            // Room for one signature only: the first secret listed signs.
            #expect(throws: WebhookVerificationError.noMatchingSignature) {
                try Fixture.verifier(scheme, [new]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
            }
        }
    }

    @Test("Rotation: signed with [new], verifier has [old, new]", arguments: SignatureScheme.allCases)
    func rotationVerifierHasBoth(scheme: SignatureScheme) throws {
        let (old, new) = Fixture.secrets(for: scheme)
        let headers = try Fixture.signedHeaders(scheme, [new])
        _ = try Fixture.verifier(scheme, [old, new]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
        _ = try Fixture.verifier(scheme, [new, old]).verify(headers: headers, body: Fixture.body, now: Fixture.now)
    }

    @Test("Stale and future timestamps", arguments: SignatureScheme.allCases)
    func timestamps(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verifier = try Fixture.verifier(scheme, [secret])
        let t = TimeInterval(Fixture.timestamp)
        // The tolerance is inclusive in both directions.
        _ = try verifier.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 300))
        _ = try verifier.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t - 300))

        let later = Date(timeIntervalSince1970: t + 301)
        let earlier = Date(timeIntervalSince1970: t - 301)
        if let name = Fixture.timestampHeader(scheme) {
            #expect(throws: WebhookVerificationError.timestampTooOld(name)) {
                try verifier.verify(headers: headers, body: Fixture.body, now: later)
            }
            #expect(throws: WebhookVerificationError.timestampTooNew(name)) {
                try verifier.verify(headers: headers, body: Fixture.body, now: earlier)
            }
        } else {
            _ = try verifier.verify(headers: headers, body: Fixture.body, now: later)
            _ = try verifier.verify(headers: headers, body: Fixture.body, now: earlier)
        }
    }

    @Test("A custom tolerance applies", arguments: [SignatureScheme.standard, .stripe, .hmacSHA256])
    func customTolerance(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verifier = try Fixture.verifier(scheme, [secret], tolerance: .seconds(10))
        let t = TimeInterval(Fixture.timestamp)
        _ = try verifier.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 9.5))
        #expect(throws: WebhookVerificationError.self) {
            try verifier.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 10.5))
        }
        #expect(throws: WebhookVerificationError.self) {
            try verifier.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t - 10.5))
        }
        let subSecond = try Fixture.verifier(scheme, [secret], tolerance: .milliseconds(1500))
        _ = try subSecond.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 1.4))
        #expect(throws: WebhookVerificationError.self) {
            try subSecond.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 1.6))
        }
        let negative = try Fixture.verifier(scheme, [secret], tolerance: .seconds(-5))
        _ = try negative.verify(headers: headers, body: Fixture.body, now: Fixture.now)
        #expect(throws: WebhookVerificationError.self) {
            try negative.verify(headers: headers, body: Fixture.body, now: Date(timeIntervalSince1970: t + 0.5))
        }
    }

    @Test("A forged delivery with a stale timestamp gets noMatchingSignature", arguments: [SignatureScheme.standard, .stripe])
    func signatureCheckedBeforeTimestamp(scheme: SignatureScheme) throws {
        let (old, new) = Fixture.secrets(for: scheme)
        let headers = try Fixture.signedHeaders(scheme, [old])
        let later = Date(timeIntervalSince1970: TimeInterval(Fixture.timestamp) + 3600)
        #expect(throws: WebhookVerificationError.noMatchingSignature) {
            try Fixture.verifier(scheme, [new]).verify(headers: headers, body: Fixture.body, now: later)
        }
    }

    @Test("Each missing required header is named", arguments: SignatureScheme.allCases)
    func missingHeaders(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verifier = try Fixture.verifier(scheme, [secret])
        for name in Fixture.requiredHeaders(scheme) {
            let without = Fixture.replacing(name, with: nil, in: headers)
            #expect(without.count == headers.count - 1)
            #expect(throws: WebhookVerificationError.missingHeader(name)) {
                try verifier.verify(headers: without, body: Fixture.body, now: Fixture.now)
            }
        }
        #expect(throws: WebhookVerificationError.missingHeader(Fixture.requiredHeaders(scheme)[0])) {
            try verifier.verify(headers: [(String, String)](), body: Fixture.body, now: Fixture.now)
        }
    }

    @Test("Header names are matched case-insensitively", arguments: SignatureScheme.allCases)
    func caseInsensitiveNames(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verifier = try Fixture.verifier(scheme, [secret])
        let variants: [(String) -> String] = [
            { $0.lowercased() },
            { $0.uppercased() },
            { String($0.enumerated().map { $0.offset.isMultiple(of: 2) ? Character($0.element.uppercased()) : Character($0.element.lowercased()) }) },
        ]
        for (index, variant) in variants.enumerated() {
            let renamed = headers.map { (variant($0.0), $0.1) }
            // Standard Webhooks names are lowercase already; every other variant renames something.
            #expect(renamed.map(\.0) != headers.map(\.0) || (index == 0 && scheme == .standard))
            _ = try verifier.verify(headers: renamed, body: Fixture.body, now: Fixture.now)
        }
    }

    @Test("Surrounding whitespace in values and unrelated headers are tolerated", arguments: SignatureScheme.allCases)
    func whitespaceAndNoise(scheme: SignatureScheme) throws {
        let secret = Fixture.secrets(for: scheme).old
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let noisy = [("Content-Type", "application/json"), ("X-Other", "1")]
            + headers.map { ($0.0, " \($0.1)\t") }
            + [("User-Agent", "hookspool/1.0")]
        _ = try Fixture.verifier(scheme, [secret]).verify(headers: noisy, body: Fixture.body, now: Fixture.now)
    }

    @Test("Any DataProtocol body gives the same signature", arguments: SignatureScheme.allCases)
    func bodyTypes(scheme: SignatureScheme) throws {
        let signer = try Fixture.signer(scheme, [Fixture.secrets(for: scheme).old])
        func sign(_ body: some DataProtocol) -> [String] {
            signer.headers(id: Fixture.id, eventType: Fixture.eventType, timestamp: Fixture.timestamp, body: body).map(\.value)
        }
        let expected = sign(Fixture.body)
        #expect(sign(Data(Fixture.body)) == expected)
        #expect(sign(([0] + Fixture.body + [0])[1...Fixture.body.count]) == expected)
        var dispatch = DispatchData.empty
        let half = Fixture.body.count / 2
        Fixture.body[..<half].withUnsafeBytes { dispatch.append($0) }
        Fixture.body[half...].withUnsafeBytes { dispatch.append($0) }
        #expect(dispatch.regions.count == 2)
        #expect(sign(dispatch) == expected)
        #expect(sign([UInt8]()) != expected)
    }

    @Test("A lone signature header (hmac-sha256) verifies without a timestamp")
    func hmacWithoutTimestamp() throws {
        let secret = Fixture.secrets(for: .hmacSHA256).old
        let headers = Fixture.replacing("X-Webhook-Timestamp", with: nil, in: try Fixture.signedHeaders(.hmacSHA256, [secret]))
        let farFuture = Date(timeIntervalSince1970: TimeInterval(Fixture.timestamp) + 86_400 * 365)
        let verified = try Fixture.verifier(.hmacSHA256, [secret]).verify(headers: headers, body: Fixture.body, now: farFuture)
        #expect(verified == VerifiedWebhook(id: nil, timestamp: nil))
    }
}
