import NIOCore
import WebhookSignature

/// The headers of a delivery's request: the endpoint's, the same on every attempt, and the
/// signature's, made for each attempt.
enum RequestHeaders {
    static let userAgent = "hookspool/\(HookSpoolVersion.current)"

    /// The headers of every request to `endpoint`: host, content type, user agent, the URL's
    /// credentials, the endpoint's own. (`Content-Length` comes with each request's body.)
    static func fixed(for endpoint: Endpoint) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            ("Host", endpoint.url.hostHeader),
            ("Content-Type", endpoint.contentType),
            ("User-Agent", userAgent),
        ]
        if let authorization = endpoint.url.basicAuthorization {
            headers.append(("Authorization", authorization))
        }
        for header in endpoint.headers {
            headers.append((header.name, header.value))
        }
        return headers
    }

    /// The signature headers of one attempt of `event`, signed at `timestamp` (unix seconds) with
    /// the secrets of `signing` valid then; nil when none is (the run outlived the last one's `not_after`).
    static func signature(for event: Event, signing: SigningSchedule, timestamp: Int64) -> [(name: String, value: String)]? {
        guard let signer = signing.signer(at: timestamp) else { return nil }
        return event.body.withUnsafeReadableBytes { body in
            signer.headers(id: event.id, eventType: event.type, timestamp: timestamp, body: body)
        }
    }
}
