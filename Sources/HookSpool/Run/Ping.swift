import Foundation
import NIOCore

/// One signed `webhook.test` event sent to one endpoint, once, without retry: `hookspool ping`.
///
/// It goes the way a run's deliveries go: the endpoint's scheme, secrets, headers and timeout, the
/// same checks on the address its host resolves to (`allow_private`), no redirects followed.
///
/// ```swift
/// let result = await Ping(endpoint: config.endpoints[0]).send()
/// print(result.status ?? 0, result.healthy)
/// ```
public struct Ping: Sendable {
    /// What the ping came to.
    public struct Result: Sendable {
        /// The test event's id, `evt_test_<random>`.
        public var eventID: String
        /// The HTTP status, or nil when no answer came.
        public var status: Int?
        /// Why no answer came: `timeout`, `connect_error`, `dns_error`, `address_not_allowed`, … (the report's words).
        public var error: String?
        /// More about `error` when there is more to say (the resolver's reason, the refused address).
        public var detail: String?
        /// Request to last byte of the answer, or to the failure; nil when nothing was sent.
        public var latency: Duration?
        /// The start of the response body (at most 1 KiB).
        public var responseExcerpt: String?

        /// Whether the endpoint answered 2xx.
        public var healthy: Bool { status.map { (200...299).contains($0) } ?? false }
    }

    /// The event type every ping sends.
    public static let eventType = "webhook.test"

    public let endpoint: Endpoint

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Resolves the endpoint's host as a run does, sends the test event once and returns what happened.
    public func send() async -> Result {
        let event = Self.makeEvent(now: Date())
        // A ping is how an operator checks an endpoint switched off in the config, so it resolves
        // (and checks the address) as if it were on; a run skips resolving disabled endpoints.
        var probe = endpoint
        probe.enabled = true
        let (resolutions, pins) = await HostResolver.resolve([probe])
        switch resolutions.first ?? .direct {
        case .unresolved(let reason):
            return Result(eventID: event.id, error: AttemptFailure.dnsError.rawValue, detail: reason)
        case .refused(let address, let category):
            return Result(
                eventID: event.id, error: AttemptFailure.addressNotAllowed.rawValue,
                detail: "\(endpoint.url.host) resolves to \(address) (\(category)); set allow_private: true on this endpoint to allow it"
            )
        case .direct, .pinned:
            break
        }

        let sent = endpoint.request(for: event)
        guard let headers = RequestHeaders.signature(for: sent, signing: endpoint.signing, timestamp: Int64(Date().timeIntervalSince1970)) else {
            return Result(eventID: event.id, error: AttemptFailure.noValidSecret.rawValue, detail: "no secret of this endpoint is valid now")
        }
        let transport = HTTPTransport(endpoint: endpoint, pinned: pins[endpoint.url.host], tls: TLSContexts())
        let attempt = await transport.post(
            headers: headers,
            body: sent.body,
            timeout: endpoint.timeout,
            attempt: 1,
            keepSuccessBody: true
        )
        await transport.shutdown()

        var result = Result(eventID: event.id, latency: attempt.latency, responseExcerpt: attempt.responseExcerpt)
        switch attempt.result {
        case .response(let status): result.status = status
        case .failure(let failure): result.error = failure.rawValue
        }
        return result
    }

    /// The test event: `{"id":"evt_test_…","type":"webhook.test","timestamp":"…","data":{"message":"hookspool ping"}}`.
    static func makeEvent(now: Date) -> Event {
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next() as UInt64, radix: 16).leftPadded(to: 16)
        let id = "evt_test_\(suffix)"
        let timestamp = RFC3339.format(secondsSince1970: Int(now.timeIntervalSince1970))
        let body = #"{"id":"\#(id)","type":"\#(eventType)","timestamp":"\#(timestamp)","data":{"message":"hookspool ping"}}"#
        return Event(line: 0, id: id, type: eventType, body: ByteBuffer(string: body))
    }
}

extension String {
    /// The string with leading zeros up to `length` characters.
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
