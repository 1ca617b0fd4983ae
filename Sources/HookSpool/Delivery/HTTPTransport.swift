import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Sends one POST over the run's HTTP clients and turns whatever happens into an `Attempt`.
///
/// AsyncHTTPClient takes its TLS configuration per client, not per request, so endpoints get one
/// client (and connection pool) per distinct `tls:` setting; all endpoints without one share a client.
struct HTTPTransport: Sendable {
    /// The distinct clients.
    let clients: [HTTPClient]
    /// For each endpoint (config order), the index of its client in `clients`.
    private let clientOfEndpoint: [Int]

    /// One client for every endpoint.
    init(client: HTTPClient) {
        clients = [client]
        clientOfEndpoint = []
    }

    /// Makes the clients a run's `endpoints` need: one per distinct TLS setting.
    ///
    /// Redirects are not followed, refused connections fail at once (the dispatcher owns retries),
    /// and `pins` maps host names to the addresses resolved at the start of the run.
    init(endpoints: [Endpoint], connectionsPerHost: Int, connectTimeout: Duration, pins: [String: String]) {
        var clients: [HTTPClient] = []
        var byTLS: [EndpointTLS?: Int] = [:]
        var clientOfEndpoint: [Int] = []
        for endpoint in endpoints {
            if let index = byTLS[endpoint.tls] {
                clientOfEndpoint.append(index)
                continue
            }
            let client = Self.makeClient(connectionsPerHost: connectionsPerHost, connectTimeout: connectTimeout, pins: pins, tls: endpoint.tls)
            byTLS[endpoint.tls] = clients.count
            clientOfEndpoint.append(clients.count)
            clients.append(client)
        }
        if clients.isEmpty {
            clients.append(Self.makeClient(connectionsPerHost: connectionsPerHost, connectTimeout: connectTimeout, pins: pins, tls: nil))
        }
        self.clients = clients
        self.clientOfEndpoint = clientOfEndpoint
    }

    /// The client endpoint `index` (config order) sends through.
    func client(forEndpoint index: Int) -> HTTPClient {
        index < clientOfEndpoint.count ? clients[clientOfEndpoint[index]] : clients[0]
    }

    /// Shuts every client down; pooled connections close.
    func shutdown() async throws {
        var firstError: (any Error)?
        for client in clients {
            do {
                try await client.shutdown()
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Bytes of the response body read at most; the rest is dropped with the connection.
    static let maxBodyRead = 64 << 10
    /// Bytes of the response body kept for the report.
    static let maxExcerpt = 1 << 10

    /// Makes one client: redirects not followed, refused connections failing at once, `pins` for DNS,
    /// and `tls` (a private CA, a client certificate) when given.
    static func makeClient(connectionsPerHost: Int, connectTimeout: Duration, pins: [String: String], tls: EndpointTLS? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount.nanoseconds(Int64(connectTimeout.seconds * 1e9))),
            decompression: .disabled
        )
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost)
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.dnsOverride = pins
        // HTTP/1.1 only, a measured choice: against an nginx offering h2, AsyncHTTPClient 1.37's
        // HTTP/2 left the first 63 of 64 concurrent requests hanging until their timeout (which
        // opened the circuit) and then ran at a quarter of HTTP/1.1's rate over one connection.
        configuration.httpVersion = .http1Only
        if let tls { configuration.tlsConfiguration = tls.configuration }
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }

    /// POSTs `body` to `url` with `headers` through endpoint `endpoint`'s client; the attempt,
    /// connect to last byte, ends at `timeout`.
    ///
    /// AsyncHTTPClient's deadline covers the request up to the response head; the body is read
    /// in a child task that a timer on the event loop cancels at the deadline. (A `Task.sleep` racing
    /// the request cost a task per attempt and, on Linux, a timer that outlived its cancellation
    /// until the deadline: memory grew with attempts per second × timeout.)
    ///
    /// A 2xx answer's body is drained, not kept, unless `keepSuccessBody` (`hookspool ping` shows it).
    func post(url: String, headers: HTTPHeaders, body: ByteBuffer, timeout: Duration, attempt number: Int, endpoint: Int = 0, keepSuccessBody: Bool = false) async -> Attempt {
        let client = client(forEndpoint: endpoint)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers
        request.body = .bytes(body)
        let prepared = request
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: timeout)
        // Taken after `start`, so the timer never fires before `deadline` has passed.
        let ioDeadline = NIODeadline.now() + TimeAmount.nanoseconds(Int64(timeout.seconds * 1e9))
        do {
            let exchange = Task { try await Self.exchange(prepared, client: client, deadline: ioDeadline, keepSuccessBody: keepSuccessBody) }
            let timer = client.eventLoopGroup.any().scheduleTask(deadline: ioDeadline) { exchange.cancel() }
            defer { timer.cancel() }
            let answer = try await withTaskCancellationHandler {
                try await exchange.value
            } onCancel: {
                exchange.cancel()
            }
            let latency = start.duration(to: clock.now)
            if clock.now >= deadline && answer.cutShort && !(200...299).contains(answer.status) {
                return Attempt(number: number, result: .failure(.timeout), latency: latency)
            }
            let retryAfter = answer.retryAfter.flatMap { RetryPolicy.parseRetryAfter($0, now: Date()) }
            return Attempt(number: number, result: .response(status: answer.status), retryAfter: retryAfter, responseExcerpt: answer.excerpt, latency: latency)
        } catch {
            let latency = start.duration(to: clock.now)
            let failure = clock.now >= deadline ? .timeout : Self.classify(error)
            return Attempt(number: number, result: .failure(failure), latency: latency)
        }
    }

    private struct Answer: Sendable {
        var status: Int
        var retryAfter: String?
        var excerpt: String?
        /// The body stopped before its end because the attempt was cancelled (its deadline passed).
        var cutShort = false
    }

    private static func exchange(_ request: HTTPClientRequest, client: HTTPClient, deadline: NIODeadline, keepSuccessBody: Bool = false) async throws -> Answer {
        let response = try await client.execute(request, deadline: deadline)
        let status = Int(response.status.code)
        // Only a failure's excerpt reaches the report; a success's body is drained, not kept.
        let keep = keepSuccessBody || !(200...299).contains(status)
        var kept = ByteBuffer()
        var total = 0
        for try await chunk in response.body {
            total += chunk.readableBytes
            if keep && kept.readableBytes < Self.maxExcerpt {
                kept.writeImmutableBuffer(chunk.getSlice(at: chunk.readerIndex, length: min(chunk.readableBytes, Self.maxExcerpt - kept.readableBytes)) ?? ByteBuffer())
            }
            if total >= Self.maxBodyRead { break }
        }
        return Answer(
            status: status,
            retryAfter: response.headers.first(name: "retry-after"),
            excerpt: kept.readableBytes > 0 ? Self.excerpt(kept) : nil,
            cutShort: Task.isCancelled
        )
    }

    /// The kept bytes as text, cut back to a whole UTF-8 character.
    static func excerpt(_ buffer: ByteBuffer) -> String {
        var bytes = Array(buffer.readableBytesView)
        if bytes.count >= maxExcerpt {
            // Drop a multi-byte character cut in half at the end.
            var end = bytes.count
            var back = 0
            while end > 0 && back < 4 && (bytes[end - 1] & 0xC0) == 0x80 {
                end -= 1
                back += 1
            }
            if end > 0 && bytes[end - 1] >= 0xC0 {
                bytes.removeSubrange((end - 1)...)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Maps a transport error to the report's words.
    static func classify(_ error: any Error) -> AttemptFailure {
        if let error = error as? HTTPClientError {
            switch error {
            case .connectTimeout, .readTimeout, .writeTimeout, .deadlineExceeded, .tlsHandshakeTimeout:
                return .timeout
            case .remoteConnectionClosed, .cancelled, .uncleanShutdown:
                return .connectionClosed
            default:
                return .networkError
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return .connectionClosed
            default: return .networkError
            }
        }
        if error is NIOSSLError || error is BoringSSLError { return .tlsError }
        if let error = error as? NIOConnectionError {
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty { return .dnsError }
            return .connectError
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EADDRNOTAVAIL: return .connectError
            case ECONNRESET, EPIPE: return .connectionClosed
            case ETIMEDOUT: return .timeout
            default: return .networkError
            }
        }
        if error is SocketAddressError { return .dnsError }
        return .networkError
    }
}
