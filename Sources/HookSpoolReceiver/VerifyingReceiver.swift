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
/// body is not a JSON object with an id; 200 for an event stored before (not stored again); 503 for
/// the first `failFirst` attempts of an id; otherwise the event is appended to `outputPath`, fsynced,
/// and only then answered 200 (or `status`).
///
/// The event id is the signed `webhook-id` for `standard`; the other schemes sign no id header
/// (`X-Webhook-Id` is not covered by their signatures, so a replay could carry any value), so the
/// body's own `"id"`, which their signatures do cover, is used instead.
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

    /// The id a verified delivery is deduplicated on: the signed id when the scheme has one, else the body's `"id"`;
    /// `nil` when the body is not a JSON object with a string id.
    public static func eventID(of verified: VerifiedWebhook, body: [UInt8]) -> String? {
        try? StoredEvent(body: body, signedID: verified.id).id
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
