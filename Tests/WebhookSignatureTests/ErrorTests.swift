import Foundation
import Testing
import WebhookSignature

/// Errors are matchable, say what failed and what to do, and never leak a secret.
@Suite("Errors")
struct ErrorTests {
    static let secret = "whsec_c2VjcmV0LWtleS1kby1ub3QtbGVhaw=="
    static let plainSecret = "plain-secret-do-not-leak"

    @Test("Secret errors never contain the secret")
    func secretErrorsDoNotLeak() {
        let inputs: [[String]] = [
            ["whsec_!!do-not-leak!!"],
            ["do-not-leak"],
            [Self.secret, "whsec_Zm9v-do-not-leak"],
            [Self.secret, ""],
            [],
        ]
        var descriptions: [String] = []
        for secrets in inputs {
            do {
                _ = try WebhookVerifier(scheme: .standard, secrets: secrets)
                Issue.record("accepted \(secrets.count) invalid secrets")
            } catch {
                descriptions.append(error.description)
                descriptions.append(String(describing: error))
                descriptions.append("\(error)")
            }
        }
        do {
            _ = try WebhookSecret.decodeStandard("whsec_do-not-leak")
        } catch {
            descriptions.append(error.description)
        }
        #expect(descriptions.count == 16)
        for description in descriptions {
            #expect(!description.contains("leak"))
            #expect(!description.contains(Self.secret))
            #expect(!description.isEmpty)
        }
        #expect(WebhookSecretError.invalidStandardSecret(index: 1).description.contains("index 1"))
        #expect(WebhookSecretError.invalidStandardSecret(index: 1).description.contains("whsec_"))
    }

    @Test("Verification errors never contain a secret or a signature", arguments: SignatureScheme.allCases)
    func verificationErrorsDoNotLeak(scheme: SignatureScheme) throws {
        let secret = scheme == .standard ? Self.secret : Self.plainSecret
        let headers = try Fixture.signedHeaders(scheme, [secret])
        let verifier = try WebhookVerifier(scheme: scheme, secrets: [secret])
        let signatureValues = headers.map(\.1).filter { $0.count >= 40 }
        #expect(!signatureValues.isEmpty)
        var errors: [WebhookVerificationError] = []
        func collect(_ headers: [(String, String)], _ body: [UInt8], _ now: Date) {
            do {
                _ = try verifier.verify(headers: headers, body: body, now: now)
            } catch {
                errors.append(error)
            }
        }
        collect(headers, Fixture.body + [1], Fixture.now)
        collect([], Fixture.body, Fixture.now)
        for name in Fixture.requiredHeaders(scheme) {
            collect(Fixture.replacing(name, with: "#bad", in: headers), Fixture.body, Fixture.now)
        }
        collect(headers, Fixture.body, Fixture.now.addingTimeInterval(9999))
        collect(headers, Fixture.body, Fixture.now.addingTimeInterval(-9999))
        #expect(errors.count >= 3)
        for error in errors {
            #expect(!error.description.contains(secret))
            for value in signatureValues {
                #expect(!error.description.contains(value))
            }
        }
    }

    @Test("Verification errors are matchable by code and say which header")
    func matchable() {
        let missing = WebhookVerificationError.missingHeader("webhook-id")
        #expect(missing.code == .missingHeader)
        #expect(missing.header == "webhook-id")
        #expect(missing != .missingHeader("webhook-timestamp"))
        #expect(missing != .malformedHeader("webhook-id"))
        #expect(WebhookVerificationError.noMatchingSignature.header == nil)
        #expect(WebhookVerificationError.timestampTooOld("webhook-timestamp").code == .timestampTooOld)
        #expect(WebhookVerificationError.timestampTooNew("webhook-timestamp").code == .timestampTooNew)
        let codes: Set<WebhookVerificationError.Code> = [
            .missingHeader, .malformedHeader, .noMatchingSignature, .timestampTooOld, .timestampTooNew,
        ]
        #expect(codes.count == 5)
        let secretCodes: Set<WebhookSecretError.Code> = [.noSecrets, .emptySecret, .invalidStandardSecret]
        #expect(secretCodes.count == 3)
    }

    @Test("Descriptions say what failed and what to do")
    func descriptions() {
        let all: [WebhookVerificationError] = [
            .missingHeader("webhook-signature"), .malformedHeader("Stripe-Signature"), .noMatchingSignature,
            .timestampTooOld("webhook-timestamp"), .timestampTooNew("X-Webhook-Timestamp"),
        ]
        #expect(Set(all.map(\.description)).count == all.count)
        for error in all {
            if let header = error.header { #expect(error.description.contains(header)) }
            #expect(error.description.contains(";"))  // "<what failed>; <what to do>"
        }
        #expect(WebhookVerificationError.missingHeader("webhook-signature").description.contains("missing"))
        #expect(WebhookVerificationError.noMatchingSignature.description.contains("secret"))
        #expect(WebhookSecretError.noSecrets.description.contains("at least one"))
        #expect(WebhookSecretError.emptySecret(index: 3).description.contains("index 3"))
    }
}
