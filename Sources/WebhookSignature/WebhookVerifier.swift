import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Verifies webhook deliveries; a signature made with any of the configured secrets is accepted.
///
/// ```swift
/// let verifier = try WebhookVerifier(scheme: .standard, secrets: [currentSecret, previousSecret])
/// do {
///     let verified = try verifier.verify(headers: request.headers.map { ($0.name.rawName, $0.value) }, body: body)
///     print("accepted", verified.id ?? "-")
/// } catch {
///     print("rejected:", error)   // e.g. "The webhook-signature header is missing; …"
/// }
/// ```
///
/// Checks happen in this order: required headers present, headers parse, a signature matches,
/// then the timestamp is within `tolerance` of `now` in either direction. So a timestamp error
/// is only reported for a delivery whose signature is genuine (the sign of a clock problem or a
/// replay), and a forged delivery always gets `noMatchingSignature`.
/// Header names are matched ignoring ASCII case; when a header appears more than once, the
/// first occurrence is used. Values are trimmed of surrounding spaces and tabs.
public struct WebhookVerifier: Sendable {
    /// The scheme deliveries are expected to follow.
    public let scheme: SignatureScheme
    /// How far the signed timestamp may be from `now`, in either direction (negative counts as zero).
    public let tolerance: Duration
    private let keys: SigningKeys
    private let toleranceSeconds: Double

    /// Prepares the keys for `scheme`; throws `WebhookSecretError` under the same rules as `WebhookSigner`,
    /// except that `.standard` also takes `whpk_` public keys (a `whsk_` key verifies with its public half).
    public init(scheme: SignatureScheme, secrets: [String], tolerance: Duration = .seconds(300)) throws(WebhookSecretError) {
        self.scheme = scheme
        self.tolerance = tolerance
        self.keys = try SigningKeys(scheme: scheme, secrets: secrets, use: .verifying)
        let (seconds, attoseconds) = tolerance.components
        self.toleranceSeconds = max(0, Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// Verifies one delivery: `headers` as received (names in any case), `body` exactly the bytes received.
    /// Returns what it verified; throws `WebhookVerificationError` saying what failed.
    public func verify(
        headers: some Sequence<(String, String)>,
        body: some DataProtocol,
        now: Date = Date()
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        switch scheme {
        case .standard:
            return try verifyStandard(headers, body: body, now: now)
        case .hmacSHA256:
            return try verifyHMAC(headers, body: body, now: now)
        case .github:
            return try verifyGitHub(headers, body: body)
        case .stripe:
            return try verifyStripe(headers, body: body, now: now)
        }
    }

    /// Verifies one delivery given headers as `WebhookSigner.headers` returns them.
    public func verify(
        headers: some Sequence<(name: String, value: String)>,
        body: some DataProtocol,
        now: Date = Date()
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        try verify(headers: headers.lazy.map { ($0.name, $0.value) }, body: body, now: now)
    }

    // MARK: Schemes

    private func verifyStandard(
        _ headers: some Sequence<(String, String)>,
        body: some DataProtocol,
        now: Date
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        let found = Self.find(Self.standardHeaders, in: headers)
        let id = try Self.required(found[0], HeaderName.webhookID)
        let rawTime = try Self.required(found[1], HeaderName.webhookTimestamp)
        let signatureValue = try Self.required(found[2], HeaderName.webhookSignature)
        guard !id.isEmpty else { throw .malformedHeader(HeaderName.webhookID) }
        guard let timestamp = Encoding.parseUnixSeconds(rawTime) else {
            throw .malformedHeader(HeaderName.webhookTimestamp)
        }

        // Entries are "version,signature", separated by spaces; v1 (HMAC) and v1a (ed25519) entries count.
        var candidates: [[UInt8]] = []
        var asymmetric: [[UInt8]] = []
        var sawEntry = false
        for entry in signatureValue.split(whereSeparator: { $0 == " " || $0 == "\t" }) {
            guard let comma = entry.firstIndex(of: ",") else { continue }
            sawEntry = true
            let version = entry[..<comma]
            guard version == "v1" || version == "v1a",
                  let bytes = Encoding.decodeBase64(entry[entry.index(after: comma)...])
            else { continue }
            if version == "v1" {
                candidates.append(bytes)
            } else if bytes.count == 64, asymmetric.count < Self.maxAsymmetricEntries {
                asymmetric.append(bytes)
            }
        }
        guard sawEntry else { throw .malformedHeader(HeaderName.webhookSignature) }

        let prefix = Array("\(id).\(rawTime).".utf8)
        if !asymmetric.isEmpty, !keys.publicKeys.isEmpty, matchAnyAsymmetric(asymmetric, prefix: prefix, body: body) {
            try checkTime(timestamp, now: now, header: HeaderName.webhookTimestamp)
            return VerifiedWebhook(id: String(id), timestamp: timestamp)
        }
        try matchAny(candidates, prefix: prefix, body: body)
        try checkTime(timestamp, now: now, header: HeaderName.webhookTimestamp)
        return VerifiedWebhook(id: String(id), timestamp: timestamp)
    }

    private func verifyHMAC(
        _ headers: some Sequence<(String, String)>,
        body: some DataProtocol,
        now: Date
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        let found = Self.find(Self.hmacHeaders, in: headers)
        let hex = try Self.required(found[0], HeaderName.xWebhookSignature)
        guard let signature = Self.sha256Hex(hex) else { throw .malformedHeader(HeaderName.xWebhookSignature) }
        var timestamp: Int64? = nil
        if let rawTime = found[1] {
            guard let parsed = Encoding.parseUnixSeconds(rawTime) else {
                throw .malformedHeader(HeaderName.xWebhookTimestamp)
            }
            timestamp = parsed
        }

        try matchAny([signature], prefix: [], body: body)
        if let timestamp {
            try checkTime(timestamp, now: now, header: HeaderName.xWebhookTimestamp)
        }
        return VerifiedWebhook(id: nil, timestamp: timestamp)
    }

    private func verifyGitHub(
        _ headers: some Sequence<(String, String)>,
        body: some DataProtocol
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        let found = Self.find(Self.githubHeaders, in: headers)
        let value = try Self.required(found[0], HeaderName.xHubSignature256)
        guard value.hasPrefix("sha256="), let signature = Self.sha256Hex(value.dropFirst(7)) else {
            throw .malformedHeader(HeaderName.xHubSignature256)
        }
        try matchAny([signature], prefix: [], body: body)
        return VerifiedWebhook(id: nil, timestamp: nil)
    }

    private func verifyStripe(
        _ headers: some Sequence<(String, String)>,
        body: some DataProtocol,
        now: Date
    ) throws(WebhookVerificationError) -> VerifiedWebhook {
        let found = Self.find(Self.stripeHeaders, in: headers)
        let value = try Self.required(found[0], HeaderName.stripeSignature)

        // Items are "key=value", separated by commas; t= is the timestamp (exactly once), v1= are signatures.
        var rawTime: Substring? = nil
        var timeCount = 0
        var candidates: [[UInt8]] = []
        for item in value.split(separator: ",") {
            let item = Encoding.trimmed(item)
            guard let equals = item.firstIndex(of: "=") else { continue }
            let key = item[..<equals]
            let itemValue = item[item.index(after: equals)...]
            if key == "t" {
                rawTime = itemValue
                timeCount += 1
            } else if key == "v1", let bytes = Self.sha256Hex(itemValue) {
                candidates.append(bytes)
            }
        }
        guard timeCount == 1, let rawTime, let timestamp = Encoding.parseUnixSeconds(rawTime) else {
            throw .malformedHeader(HeaderName.stripeSignature)
        }

        try matchAny(candidates, prefix: Array("\(rawTime).".utf8), body: body)
        try checkTime(timestamp, now: now, header: HeaderName.stripeSignature)
        return VerifiedWebhook(id: nil, timestamp: timestamp)
    }

    // MARK: Helpers

    /// Succeeds if any candidate equals the HMAC of `prefix` + `body` under any key (compared in constant time).
    private func matchAny(
        _ candidates: [[UInt8]],
        prefix: [UInt8],
        body: some DataProtocol
    ) throws(WebhookVerificationError) {
        guard !candidates.isEmpty else { throw .noMatchingSignature }
        for keyed in keys.authenticators {
            let mac = keyed.code(prefix: prefix, body: body)
            let matched = mac.withUnsafeBytes { expected in
                candidates.contains { Encoding.constantTimeEquals(expected, $0) }
            }
            if matched { return }
        }
        throw .noMatchingSignature
    }

    /// Whether any `v1a` candidate is a valid ed25519 signature of `prefix` + `body` under any public key.
    private func matchAnyAsymmetric(_ candidates: [[UInt8]], prefix: [UInt8], body: some DataProtocol) -> Bool {
        let message = SigningKeys.message(prefix: prefix, body: body)
        for key in keys.publicKeys {
            for candidate in candidates where key.isValidSignature(candidate, for: message) {
                return true
            }
        }
        return false
    }

    /// At most this many `v1a` entries of one header are tried: each costs a full ed25519
    /// verification, and a hostile sender could otherwise list thousands.
    private static let maxAsymmetricEntries = 8

    private func checkTime(_ timestamp: Int64, now: Date, header: String) throws(WebhookVerificationError) {
        let age = now.timeIntervalSince1970 - Double(timestamp)
        if age > toleranceSeconds { throw .timestampTooOld(header) }
        if -age > toleranceSeconds { throw .timestampTooNew(header) }
    }

    /// 32 bytes from 64 hex characters, or `nil`.
    private static func sha256Hex(_ hex: Substring) -> [UInt8]? {
        guard hex.utf8.count == 64 else { return nil }
        return Encoding.decodeHex(hex)
    }

    private static func required(_ value: Substring?, _ name: String) throws(WebhookVerificationError) -> Substring {
        guard let value else { throw .missingHeader(name) }
        return value
    }

    private static let standardHeaders = [HeaderName.webhookID, HeaderName.webhookTimestamp, HeaderName.webhookSignature]
        .map { $0.lowercased() }
    private static let hmacHeaders = [HeaderName.xWebhookSignature, HeaderName.xWebhookTimestamp].map { $0.lowercased() }
    private static let githubHeaders = [HeaderName.xHubSignature256].map { $0.lowercased() }
    private static let stripeHeaders = [HeaderName.stripeSignature].map { $0.lowercased() }

    /// The trimmed value of the first header matching each of `lowercased` (ignoring case), in one pass.
    private static func find(_ lowercased: [String], in headers: some Sequence<(String, String)>) -> [Substring?] {
        var values = [Substring?](repeating: nil, count: lowercased.count)
        var remaining = lowercased.count
        for (name, value) in headers {
            for i in lowercased.indices where values[i] == nil {
                if Encoding.equalsIgnoringCase(name, lowercased: lowercased[i]) {
                    values[i] = Encoding.trimmed(value[...])
                    remaining -= 1
                    break
                }
            }
            if remaining == 0 { break }
        }
        return values
    }
}
