import NIOCore
import NIOHTTP1
import WebhookSignature

/// The headers of one attempt: host, content, user agent, the endpoint's own, and the signature.
enum RequestHeaders {
    static let userAgent = "hookspool/\(HookSpoolVersion.current)"

    /// The headers of one attempt of `event` to `endpoint`, signed at `timestamp` (unix seconds)
    /// with the secrets valid then; nil when none is (the run outlived the last one's `not_after`).
    static func make(for event: Event, endpoint: Endpoint, timestamp: Int64) -> HTTPHeaders? {
        guard let signer = endpoint.signing.signer(at: timestamp) else { return nil }
        var headers = HTTPHeaders()
        headers.reserveCapacity(10 + endpoint.headers.count)
        headers.add(name: "Host", value: endpoint.url.hostHeader)
        headers.add(name: "Content-Type", value: endpoint.contentType)
        headers.add(name: "Content-Length", value: String(event.body.readableBytes))
        headers.add(name: "User-Agent", value: userAgent)
        if let authorization = endpoint.url.basicAuthorization {
            headers.add(name: "Authorization", value: authorization)
        }
        for header in endpoint.headers {
            headers.add(name: header.name, value: header.value)
        }
        let signature = event.body.withUnsafeReadableBytes { body in
            signer.headers(id: event.id, eventType: event.type, timestamp: timestamp, body: body)
        }
        for header in signature {
            headers.add(name: header.name, value: header.value)
        }
        return headers
    }
}
