/// What one HTTP attempt of a delivery came to.
public struct Attempt: Sendable {
    /// How the attempt ended.
    public enum Result: Sendable, Equatable {
        /// The receiver answered with `status`.
        case response(status: Int)
        /// No HTTP answer came.
        case failure(AttemptFailure)
    }

    /// 1-based attempt number.
    public var number: Int
    public var result: Result
    /// Wait the receiver asked for with `Retry-After`, if any.
    public var retryAfter: Duration?
    /// The start of the response body (at most 1 KiB, as UTF-8 text).
    public var responseExcerpt: String?
    /// From the start of the request to the last byte of the answer, or to the failure.
    public var latency: Duration

    public init(number: Int, result: Result, retryAfter: Duration? = nil, responseExcerpt: String? = nil, latency: Duration) {
        self.number = number
        self.result = result
        self.retryAfter = retryAfter
        self.responseExcerpt = responseExcerpt
        self.latency = latency
    }

    /// What the dispatcher does after this attempt.
    public enum Verdict: Sendable, Equatable {
        case delivered
        case retry
        case permanent
    }

    /// 2xx delivers; connection errors, timeouts, 408, 425, 429 and 5xx are retried; anything else is permanent.
    public var verdict: Verdict {
        switch result {
        case .response(let status):
            switch status {
            case 200...299: return .delivered
            case 408, 425, 429, 500...599: return .retry
            default: return .permanent
            }
        case .failure(let failure):
            return failure.isRetryable ? .retry : .permanent
        }
    }

    /// The report's key for this result: the status code, or the failure's name.
    public var statusKey: String {
        switch result {
        case .response(let status): return String(status)
        case .failure(let failure): return failure.rawValue
        }
    }
}

/// Why no HTTP answer came; the raw values are the report's `last_error` and `status_codes` keys.
public enum AttemptFailure: String, Sendable, Equatable, CaseIterable {
    /// The attempt ran past its timeout.
    case timeout
    /// The connection was refused, or could not be made.
    case connectError = "connect_error"
    /// The connection broke before a full answer.
    case connectionClosed = "connection_closed"
    /// TLS handshake or certificate failure.
    case tlsError = "tls_error"
    /// The host name did not resolve.
    case dnsError = "dns_error"
    /// The host resolves only to addresses this endpoint may not reach (see `allow_private`).
    case addressNotAllowed = "address_not_allowed"
    /// The proxy could not be reached, refused the request (407, 403, …), or could not open the way to the endpoint.
    case proxyError = "proxy_error"
    /// Any other transport failure.
    case networkError = "network_error"
    /// Not sent: none of the endpoint's secrets was valid at that moment (every `not_after` had passed).
    case noValidSecret = "no_valid_secret"

    /// Whether trying again may help.
    public var isRetryable: Bool { self != .addressNotAllowed }
}
