import HookSpool
import WebhookSignature

/// How a `VerifyingReceiver` listens, verifies, stores and answers: the options of `hookspool receive`.
///
/// ```swift
/// var options = ReceiverOptions(secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
/// options.port = 0                      // any free port
/// options.outputPath = "received.ndjson"
/// options.failFirst = 2                 // answer 503 twice per event id, then accept
/// ```
public struct ReceiverOptions: Sendable {
    /// The address to listen on.
    public var host: String = "127.0.0.1"
    /// The port to listen on; 0 picks a free one.
    public var port: Int = 0
    /// The signature scheme every request must carry.
    public var scheme: SignatureScheme = .standard
    /// The secrets a signature may be made with (several during a rotation); never logged.
    public var secrets: [String]
    /// How far a signed timestamp may be from now, either way; schemes without a timestamp (`github`) cannot check it.
    public var tolerance: Duration = .seconds(300)
    /// Peers allowed to deliver; empty means every address.
    public var allowedNetworks: [IPNetwork] = []
    /// The NDJSON file accepted events are appended to and the seen ids are rebuilt from; `nil` keeps ids in memory only.
    public var outputPath: String?
    /// Answer 503 to the first this many attempts of each event id.
    public var failFirst: Int = 0
    /// Answer this status to every verified request instead of 200; a non-2xx status stores nothing.
    public var status: Int?
    /// Wait this long before every answer.
    public var delay: Duration?
    /// The largest body accepted; a larger one gets 413.
    public var maxBodyBytes: Int = 16 << 20

    /// Options with `secrets` and every other value at its default.
    public init(secrets: [String]) {
        self.secrets = secrets
    }

    /// The status answered for an accepted or duplicate event: `status` when it is 2xx, else 200.
    var successStatus: Int {
        if let status, (200...299).contains(status) { return status }
        return 200
    }

    /// The status answered instead of storing, when `status` is set and not 2xx.
    var refusalStatus: Int? {
        guard let status, !(200...299).contains(status) else { return nil }
        return status
    }
}
