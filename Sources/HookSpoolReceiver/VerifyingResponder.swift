import Foundation
import HTTPTypes
import HookSpool
import Hummingbird
import Logging
import NIOCore
import Synchronization
import WebhookSignature

/// Answers one webhook request: allow-list, signature, then once-only storage, in that order.
///
/// Nothing slow happens before the answer: the only work is the signature check and, for a new
/// event, one durable append (shared with the appends queued at the same moment).
struct VerifyingResponder: HTTPResponder {
    typealias Context = ReceiverRequestContext

    let options: ReceiverOptions
    let verifier: WebhookVerifier
    let sink: EventSink
    let statistics: ReceiverStatistics
    let logger: Logger
    /// Verified attempts per event id not yet stored, for `--fail-first`.
    private let attempts = AttemptCounts()

    /// A decided answer: status and the JSON body.
    private struct Answer {
        var status: Int
        var body: String
    }

    func respond(to request: Request, context: ReceiverRequestContext) async throws -> Response {
        statistics.countReceived()
        let answer = await decide(request, peer: context.remoteAddress)
        if let delay = options.delay {
            try await Task.sleep(for: delay)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(string: answer.body + "\n"))
        )
    }

    private func decide(_ request: Request, peer: SocketAddress?) async -> Answer {
        var request = request
        guard request.method == .post else {
            return reject(.methodNotAllowed, status: 405, "only POST is accepted")
        }
        if !options.allowedNetworks.isEmpty {
            let address = peer.flatMap(Self.ipAddress)
            guard let address, options.allowedNetworks.contains(where: { $0.contains(address) }) else {
                let shown = address.map { String(describing: $0) } ?? "unknown"
                return reject(.forbiddenAddress, status: 403, "address \(shown) is not allowed", peer: shown)
            }
        }

        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: options.maxBodyBytes).readableBytesView)
        } catch is NIOTooManyBytesError {
            return reject(.bodyTooLarge, status: 413, "the body is larger than \(options.maxBodyBytes) bytes")
        } catch {
            return reject(.invalidBody, status: 400, "the body could not be read")
        }

        let verified: VerifiedWebhook
        do {
            verified = try verifier.verify(headers: request.headers.lazy.map { ($0.name.rawName, $0.value) }, body: body)
        } catch {
            return reject(ReceiverStatistics.Rejection(error), status: 401, error.description)
        }

        if let refusal = options.refusalStatus {
            statistics.countFailedOnPurpose()
            return Answer(status: refusal, body: JSONText.error("answering \(refusal) on purpose (--status)"))
        }

        let event: StoredEvent
        do {
            event = try StoredEvent(body: body, headerID: verified.id ?? Self.idHeader(in: request))
        } catch .invalidBody {
            return reject(.invalidBody, status: 400, "the body is not a JSON object in UTF-8")
        } catch .noEventID {
            return reject(.noEventID, status: 400, "the event has no id: the body needs a string \"id\"")
        } catch {
            return reject(.idMismatch, status: 400, "the id header does not name the body's event")
        }

        if sink.contains(event.id) {
            return duplicate(event.id)
        }
        let attempt = attempts.next(event.id)
        if attempt <= options.failFirst {
            statistics.countFailedOnPurpose()
            logger.debug("failing on purpose", metadata: ["id": "\(event.id)", "attempt": "\(attempt)"])
            return Answer(
                status: 503,
                body: JSONText.error("failing on purpose (--fail-first \(options.failFirst)): attempt \(attempt)")
            )
        }

        do {
            switch try await sink.append(id: event.id, line: event.line) {
            case .stored:
                statistics.countAccepted()
                attempts.forget(event.id)
                logger.debug("accepted", metadata: ["id": "\(event.id)", "attempt": "\(attempt)"])
                return Answer(status: options.successStatus, body: #"{"id":\#(JSONText.quoted(event.id)),"stored":true}"#)
            case .duplicate:
                return duplicate(event.id)
            }
        } catch {
            logger.error("could not store an event", metadata: ["id": "\(event.id)", "error": "\(error)"])
            return reject(.storageError, status: 500, "the event could not be stored; try again later")
        }
    }

    private func duplicate(_ id: String) -> Answer {
        statistics.countDuplicate()
        logger.debug("duplicate", metadata: ["id": "\(id)"])
        return Answer(status: options.successStatus, body: #"{"id":\#(JSONText.quoted(id)),"stored":false,"duplicate":true}"#)
    }

    private func reject(_ reason: ReceiverStatistics.Rejection, status: Int, _ message: String, peer: String? = nil) -> Answer {
        statistics.countRejected(reason)
        var metadata: Logger.Metadata = ["status": "\(status)", "reason": "\(reason.rawValue)"]
        if let peer { metadata["peer"] = "\(peer)" }
        logger.info("rejected", metadata: metadata)
        return Answer(status: status, body: JSONText.error(message))
    }

    /// The id header of the schemes that send one (`webhook-id`, or `X-Webhook-Id`), matched ignoring case.
    private static func idHeader(in request: Request) -> String? {
        let names = ["webhook-id", "x-webhook-id"]
        return request.headers.first { names.contains($0.name.canonicalName) }?.value
    }

    /// The peer's IP address, or `nil` for a peer that has none (a Unix socket).
    private static func ipAddress(_ socketAddress: SocketAddress) -> IPAddress? {
        switch socketAddress {
        case .v4, .v6:
            return socketAddress.withSockAddr { pointer, _ in IPAddress(socketAddress: pointer) }
        default:
            return nil
        }
    }

    /// Attempts per event id, shared by every request.
    private final class AttemptCounts: Sendable {
        private let counts = Mutex<[String: Int]>([:])

        /// Counts one more attempt of `id` and returns its number, from 1.
        func next(_ id: String) -> Int {
            counts.withLock { counts in
                counts[id, default: 0] += 1
                return counts[id] ?? 1
            }
        }

        /// Drops the count of a stored id; the stored set answers for it from now on.
        func forget(_ id: String) {
            counts.withLock { _ = $0.removeValue(forKey: id) }
        }
    }
}
