import WebhookSignature

/// An endpoint's secrets with the time each may sign in (`not_before`, `not_after`): which sign at a given moment.
public struct SigningSchedule: Sendable {
    /// When one secret of the list may sign, in unix seconds, both ends included; nil: unbounded.
    public struct Window: Sendable, Equatable {
        public var notBefore: Int64?
        public var notAfter: Int64?

        public init(notBefore: Int64? = nil, notAfter: Int64? = nil) {
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        /// Whether the secret may sign at `time`.
        public func contains(_ time: Int64) -> Bool {
            (notBefore.map { time >= $0 } ?? true) && (notAfter.map { time <= $0 } ?? true)
        }
    }

    /// From `start` until the next stretch, the positions of the secrets that sign, and their signer (nil: none valid).
    private struct Stretch: Sendable {
        var start: Int64
        var valid: [Int]
        var signer: WebhookSigner?
    }

    /// The signature scheme.
    public let scheme: SignatureScheme
    /// Each secret's window, in the order the secrets were given.
    public let windows: [Window]
    /// For `standard`, each secret's signature version (`v1` for `whsec_`, `v1a` for `whsk_`); empty for the other schemes.
    public let versions: [String]
    /// In order of `start`; the first starts at `Int64.min`.
    private let stretches: [Stretch]

    /// One signer for all time (every secret always valid).
    public init(always signer: WebhookSigner, count: Int) {
        scheme = signer.scheme
        windows = Array(repeating: Window(), count: count)
        versions = []
        stretches = [Stretch(start: .min, valid: Array(0..<count), signer: signer)]
    }

    /// `secrets[i]` signs within `windows[i]`; throws as `WebhookSigner` does for a bad secret (naming its position).
    public init(scheme: SignatureScheme, secrets: [String], windows: [Window]) throws(WebhookSecretError) {
        precondition(secrets.count == windows.count, "one window per secret")
        // Every secret checked once, whether or not it is valid now.
        let all = try WebhookSigner(scheme: scheme, secrets: secrets)
        self.scheme = scheme
        self.windows = windows
        versions = scheme == .standard ? secrets.map { $0.hasPrefix(WebhookSecret.signingKeyPrefix) ? "v1a" : "v1" } : []
        var starts: Set<Int64> = [.min]
        for window in windows {
            if let notBefore = window.notBefore { starts.insert(notBefore) }
            if let notAfter = window.notAfter, notAfter < .max { starts.insert(notAfter + 1) }
        }
        stretches = starts.sorted().map { start in
            let valid = windows.indices.filter { windows[$0].contains(start) }
            // Cannot throw: each secret passed above.
            let signer = valid.isEmpty ? nil : valid.count == secrets.count ? all : try? WebhookSigner(scheme: scheme, secrets: valid.map { secrets[$0] })
            return Stretch(start: start, valid: valid, signer: signer)
        }
    }

    /// How many secrets the list holds, valid now or not.
    public var count: Int { windows.count }

    /// The signer of the secrets valid at `time` (unix seconds); nil when none is.
    public func signer(at time: Int64) -> WebhookSigner? { stretch(at: time).signer }

    /// The positions of the secrets valid at `time`.
    public func valid(at time: Int64) -> [Int] { stretch(at: time).valid }

    /// The first moment after `time` at which the set of valid secrets changes; nil: it never does.
    public func nextChange(after time: Int64) -> Int64? {
        stretches.first { $0.start > time }?.start
    }

    /// Whether any secret has a window (a rotation on a schedule).
    public var isScheduled: Bool { windows.contains { $0 != Window() } }

    private func stretch(at time: Int64) -> Stretch {
        // Few stretches (at most two per secret): a scan from the end.
        stretches.last { $0.start <= time } ?? stretches[0]
    }
}
