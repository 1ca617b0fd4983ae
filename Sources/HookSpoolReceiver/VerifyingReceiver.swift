import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import UnixSignals
import WebhookSignature

/// A webhook receiver to test senders against: it verifies every request, stores each event once, durably, and answers fast.
///
/// ```swift
/// var options = ReceiverOptions(secrets: [secret])
/// options.outputPath = "received.ndjson"
/// let receiver = try VerifyingReceiver(options: options, logger: logger)
/// try await receiver.run { address in print("listening on \(address)") }   // until SIGTERM or SIGINT
/// print(receiver.statistics.snapshot.summary)
/// ```
///
/// For each request, in order: 405 unless it is a POST; 403 when `allowedNetworks` is set and the
/// peer is outside it; 413 for a body over `maxBodyBytes`; 401 with `{"error": reason}` when the
/// signature or its timestamp does not verify; the `status` answer when it is not 2xx; 400 when the
/// body is not a JSON object with a string `"id"`, or a `webhook-id`/`X-Webhook-Id` header names
/// another id; 200 for an event stored before (not stored again); 503 for the first `failFirst`
/// attempts of an id; otherwise the body is appended to `outputPath` as one line, fsynced, and only
/// then answered 200 (or `status`).
///
/// Events are deduplicated on the body's `"id"`, which every scheme's signature covers (the
/// `X-Webhook-Id` header of `hmac-sha256` and `github` is not signed, so a replay could carry any
/// value there; that is why it must match the body's id rather than stand in for it).
public struct VerifyingReceiver: Sendable {
    /// What the receiver does.
    public let options: ReceiverOptions
    /// Counts of what it did so far.
    public let statistics = ReceiverStatistics()
    /// The ids already stored and the file they go to.
    public let sink: EventSink
    private let verifier: WebhookVerifier
    private let logger: Logger

    /// Prepares the verifier and opens `options.outputPath`, reading back the ids stored there before.
    /// Throws `WebhookSecretError` for an unusable secret and `FileSystemError` when the file cannot be used.
    public init(options: ReceiverOptions, logger: Logger) throws {
        self.options = options
        self.logger = logger
        self.verifier = try WebhookVerifier(scheme: options.scheme, secrets: options.secrets, tolerance: options.tolerance)
        if let path = options.outputPath {
            self.sink = try EventSink.open(path: path)
        } else {
            self.sink = EventSink.inMemory()
        }
    }

    /// The id a delivery is deduplicated on: the body's `"id"`, covered by every scheme's signature;
    /// `nil` when the body is not a JSON object with a string id.
    public static func eventID(body: [UInt8]) -> String? {
        try? StoredEvent(body: body, headerID: nil).id
    }

    /// Listens until one of `shutdownSignals` arrives (or the task is cancelled), then finishes the
    /// requests in flight and returns. `onListening` gets the bound address once the server is up.
    public func run(
        shutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onListening: @escaping @Sendable (SocketAddress) async -> Void
    ) async throws {
        let responder = VerifyingResponder(
            options: options,
            verifier: verifier,
            sink: sink,
            statistics: statistics,
            logger: logger
        )
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: nil),
            onServerRunning: { channel in
                if let address = channel.localAddress { await onListening(address) }
            },
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: shutdownSignals, logger: logger)
        )
        try await group.run()
    }
}
