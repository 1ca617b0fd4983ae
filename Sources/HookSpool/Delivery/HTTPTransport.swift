import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// Sends one endpoint's POSTs over keep-alive HTTP/1.1 connections and turns whatever happens into an `Attempt`.
///
/// Connections open as needed, so the dispatcher's limits (global and per endpoint) bound how
/// many there are, and stay open until the run no longer needs them (`closeSpare`) or ends.
/// Redirects are not followed and nothing is retried here: the dispatcher owns retries.
struct HTTPTransport: Transport {
    private let pool: ConnectionPool
    /// The request line and the endpoint's own headers, encoded once; nil when they cannot be sent
    /// (every attempt then fails as a network error, and nothing is sent).
    private let prefix: [UInt8]?

    /// A transport to `endpoint`; `pinned` is the address its host resolved to at the start of the
    /// run (without one the name is looked up in `names`, once per run); `tls` is the context for https.
    init(endpoint: Endpoint, pinned: String?, tls: TLSContexts, names: HostLookups = HostLookups()) {
        pool = ConnectionPool(
            url: endpoint.url, pinned: pinned, tls: endpoint.url.scheme == "https" ? tls.context(for: endpoint.tls) : nil, names: names,
            proxy: endpoint.proxy
        )
        var fixed = RequestHeaders.fixed(for: endpoint)
        if let authorization = pool.proxyAuthorization { fixed.append(("Proxy-Authorization", authorization)) }
        prefix = RequestEncoding.prefix(target: pool.requestTarget, headers: fixed)
    }

    /// Closes every pooled connection.
    func shutdown() async {
        await pool.shutdown()
    }

    /// Closes the idle connections that the endpoint's `pending` deliveries could not all take.
    func closeSpare(pending: Int) {
        pool.closeSpare(pending: pending)
    }

    /// Bytes of the response body read at most; the rest is dropped with the connection.
    static let maxBodyRead = 64 << 10
    /// Bytes of the response body kept for the report.
    static let maxExcerpt = 1 << 10
    private static let allocator = ByteBufferAllocator()

    /// Starts a POST of `body` with the endpoint's headers and this attempt's `headers`; the
    /// attempt, connect to last byte, ends at `timeout`.
    ///
    /// An answer whose head arrived stands even if its body is cut short (by the deadline, a closed
    /// connection, or its length); a non-2xx one cut short by the deadline counts as a timeout.
    /// A 2xx answer's body is drained, not kept, unless `keepSuccessBody` (`hookspool ping` shows it).
    /// `answered` runs on the connection's event loop, after the connection went back to the pool.
    func start(
        headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int,
        answered: @escaping @Sendable (Attempt) -> Void
    ) -> AttemptHandle {
        start(headers: headers, body: body, timeout: timeout, attempt: number, keepSuccessBody: false, answered: answered)
    }

    /// As `start(headers:body:timeout:attempt:answered:)`; with `keepSuccessBody`, a 2xx answer's body is kept too.
    func start(
        headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int, keepSuccessBody: Bool,
        answered: @escaping @Sendable (Attempt) -> Void
    ) -> AttemptHandle {
        let clock = ContinuousClock()
        let start = clock.now
        let deadline = start.advanced(by: timeout)
        // Taken after `start`, so the timer never fires before `deadline` has passed.
        let ioDeadline = NIODeadline.now() + TimeAmount.nanoseconds(Int64(timeout.seconds * 1e9))
        guard let prefix, let request = RequestEncoding.post(prefix: prefix, headers: headers, body: body, allocator: Self.allocator) else {
            // A header value with a line break or a control character, a name that is not a token, or
            // a target with a space or a control character: never sent, nor any connection opened for it.
            answered(Attempt(number: number, result: .failure(.networkError), latency: start.duration(to: clock.now)))
            return .done
        }
        let pool = pool
        let exchange = Exchange()
        // Counted once it holds its connection (or opens one) until after it has parked it again,
        // so that `closeSpare` leaves idle connections for the deliveries not yet in an exchange.
        pool.exchangeStarted()
        let finish: @Sendable (Result<(HTTP1Connection, HTTPAnswer), any Error>) -> Void = { result in
            // Let go before parking: a late cancel must not reach the connection's next exchange.
            exchange.end()
            if case .success(let (connection, answer)) = result, answer.reusable { pool.park(connection) }
            pool.exchangeEnded()
            answered(Self.attempt(number, from: result.map(\.1), absoluteForm: pool.absoluteForm, deadline: deadline, start: start))
        }
        if let parked = pool.idleConnection() {
            exchange.hold(parked)
            parked.send(request, deadline: ioDeadline, keepSuccessBody: keepSuccessBody).whenComplete { result in
                switch result {
                case .success(let answer):
                    finish(.success((parked, answer)))
                case .failure(HTTPExchangeError.closed) where !exchange.isCancelled:
                    // A kept-alive connection the endpoint had closed: try once more on a new one, as
                    // curl does. Not a new attempt: the endpoint gave no answer to count.
                    Self.exchangeOnNewConnection(request, in: pool, exchange: exchange, deadline: ioDeadline, keepSuccessBody: keepSuccessBody, then: finish)
                case .failure(let error):
                    finish(.failure(error))
                }
            }
        } else {
            Self.exchangeOnNewConnection(request, in: pool, exchange: exchange, deadline: ioDeadline, keepSuccessBody: keepSuccessBody, then: finish)
        }
        return AttemptHandle { exchange.cancel() }
    }

    /// POSTs as `start` does and waits for the attempt; with `keepSuccessBody`, a 2xx answer's body is kept too.
    func post(headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int, keepSuccessBody: Bool) async -> Attempt {
        await AttemptHandle.waiting { answered in
            start(headers: headers, body: body, timeout: timeout, attempt: number, keepSuccessBody: keepSuccessBody, answered: answered)
        }
    }

    /// What an exchange's answer, or its failure, makes of the attempt.
    private static func attempt(
        _ number: Int, from result: Result<HTTPAnswer, any Error>, absoluteForm: Bool, deadline: ContinuousClock.Instant, start: ContinuousClock.Instant
    ) -> Attempt {
        let now = ContinuousClock.now
        let latency = start.duration(to: now)
        switch result {
        case .success(let answer):
            if absoluteForm && answer.status == 407 {
                // The proxy wants (other) credentials: its failure, not the endpoint's answer.
                return Attempt(number: number, result: .failure(.proxyError), latency: latency)
            }
            if now >= deadline && answer.cutShort && !(200...299).contains(answer.status) {
                return Attempt(number: number, result: .failure(.timeout), latency: latency)
            }
            let retryAfter = answer.retryAfter.flatMap { RetryPolicy.parseRetryAfter($0, now: Date()) }
            return Attempt(
                number: number, result: .response(status: answer.status), retryAfter: retryAfter,
                responseExcerpt: answer.excerpt.map(Self.excerpt), latency: latency
            )
        case .failure(let error):
            // The proxy's failure is the proxy's, even when it used up the attempt's time.
            let failure = error is ProxyFailure ? .proxyError : now >= deadline ? .timeout : Self.classify(error)
            return Attempt(number: number, result: .failure(failure), latency: latency)
        }
    }

    /// Opens a connection for `exchange` and sends one request on it as soon as it is up, on its
    /// event loop; `then` gets the connection and the answer, or the failure.
    private static func exchangeOnNewConnection(
        _ request: ByteBuffer, in pool: ConnectionPool, exchange: Exchange, deadline: NIODeadline, keepSuccessBody: Bool,
        then finish: @escaping @Sendable (Result<(HTTP1Connection, HTTPAnswer), any Error>) -> Void
    ) {
        pool.connect(deadline: deadline).flatMap { connection -> EventLoopFuture<(HTTP1Connection, HTTPAnswer)> in
            guard exchange.hold(connection) else {
                connection.close()
                return connection.channel.eventLoop.makeFailedFuture(HTTPExchangeError.cancelled)
            }
            return connection.send(request, deadline: deadline, keepSuccessBody: keepSuccessBody).map { (connection, $0) }
        }.whenComplete(finish)
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
        if error is ProxyFailure { return .proxyError }
        if let error = error as? HTTPExchangeError {
            switch error {
            case .timeout: return .timeout
            case .cancelled: return .connectionClosed
            case .closed(let cause): return cause.map(classify) ?? .connectionClosed
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed, .inputClosed: return .connectionClosed
            default: return .networkError
            }
        }
        if error is NIOSSLError || error is NIOSSLExtraError || error is BoringSSLError { return .tlsError }
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

/// One attempt's exchange: the connection it holds while it has one, and whether it was abandoned.
private final class Exchange: Sendable {
    private let state = Mutex<(connection: HTTP1Connection?, cancelled: Bool)>((nil, false))

    /// Takes `connection` for the exchange; false when the exchange was abandoned meanwhile.
    @discardableResult
    func hold(_ connection: HTTP1Connection) -> Bool {
        state.withLock { state in
            state.connection = connection
            return !state.cancelled
        }
    }

    /// The exchange is over: its connection is no longer its own to cancel.
    func end() {
        state.withLock { $0.connection = nil }
    }

    var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Abandons the exchange: its request, if one is under way, ends as cancelled and its connection closes.
    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.connection
        }?.cancel()
    }
}

/// The TLS contexts of a run's https endpoints: one per distinct `tls` setting, made on first use.
final class TLSContexts: Sendable {
    private let made = Mutex<[EndpointTLS?: Result<NIOSSLContext, any Error>]>([:])

    init() {}

    /// The context for endpoints with these TLS settings, or why it could not be made.
    func context(for tls: EndpointTLS?) -> Result<NIOSSLContext, any Error> {
        made.withLock { made in
            if let known = made[tls] { return known }
            let configuration = tls?.configuration ?? TLSConfiguration.makeClientConfiguration()
            let context = Result<NIOSSLContext, any Error> { try NIOSSLContext(configuration: configuration) }
            made[tls] = context
            return context
        }
    }
}

/// The keep-alive connections to one endpoint, and how to open another.
final class ConnectionPool: Sendable {
    /// Where connections go: a literal or pinned address, or a name (looked up once per run).
    private enum Address: Sendable {
        case socket(SocketAddress)
        case name(String, port: Int)
    }

    private let address: Result<Address, any Error>
    /// The TLS context (or why it could not be made) for https endpoints; nil for http.
    private let tls: Result<NIOSSLContext, any Error>?
    /// The name sent in TLS's SNI and checked against the certificate; nil for a literal address,
    /// which is checked against the certificate's IP addresses.
    private let serverName: String?
    private let names: HostLookups
    /// The request line's target: the path and query, or the whole URL for an HTTP proxy (absolute-form).
    let requestTarget: String
    /// The `Proxy-Authorization` value each request carries (absolute-form through an HTTP proxy that wants credentials).
    let proxyAuthorization: String?
    /// The endpoint, and the proxy that opens a tunnel to it (CONNECT or SOCKS5); nil when connections
    /// go straight to the endpoint or carry absolute-form requests to an HTTP proxy.
    private let tunnel: (url: EndpointURL, proxy: EgressProxy)?
    /// Requests go in absolute-form to an HTTP proxy.
    let absoluteForm: Bool
    private let idle = Mutex<[HTTP1Connection]>([])
    /// Exchanges under way, each holding or opening a connection of its own.
    private let busy = Atomic<Int>(0)

    /// The connections to `url`: through `proxy` when there is one (which then resolves the endpoint's
    /// host itself, so `pinned` is not used), else to `pinned` or the literal address, or the name.
    init(url: EndpointURL, pinned: String?, tls: Result<NIOSSLContext, any Error>?, names: HostLookups, proxy: EgressProxy? = nil) {
        self.names = names
        let literal = url.literalAddress?.description
        if let proxy {
            if let ip = IPAddress(urlHost: proxy.host)?.description {
                address = Result { .socket(try SocketAddress(ipAddress: ip, port: proxy.port)) }
            } else {
                address = .success(.name(proxy.host, port: proxy.port))
            }
        } else if let ip = pinned ?? literal {
            address = Result { .socket(try SocketAddress(ipAddress: ip, port: url.port)) }
        } else {
            address = .success(.name(url.host, port: url.port))
        }
        self.tls = tls
        serverName = literal == nil ? url.host : nil
        let absoluteForm = proxy?.kind == .http && url.scheme == "http"
        requestTarget = absoluteForm ? url.requestURL : url.requestTarget
        proxyAuthorization = absoluteForm ? proxy?.authorization : nil
        tunnel = proxy.flatMap { absoluteForm ? nil : (url, $0) }
        self.absoluteForm = absoluteForm
    }

    /// An idle connection that is still open, if there is one.
    func idleConnection() -> HTTP1Connection? {
        while let parked = idle.withLock({ $0.popLast() }) {
            if parked.isUsable { return parked }
            parked.close()
        }
        return nil
    }

    /// Takes back a connection that finished its exchange and may carry another.
    func park(_ connection: HTTP1Connection) {
        idle.withLock { $0.append(connection) }
    }

    /// An exchange holds a connection now: one it took from the parked ones, or one it opens.
    func exchangeStarted() {
        busy.add(1, ordering: .relaxed)
    }

    /// An exchange is over, its connection parked or closed.
    func exchangeEnded() {
        busy.subtract(1, ordering: .relaxed)
    }

    /// Closes the idle connections beyond those the `pending` deliveries not in an exchange now
    /// could take, the longest parked first (the most recent are taken next).
    func closeSpare(pending: Int) {
        let wanted = max(0, pending - busy.load(ordering: .relaxed))
        let spare = idle.withLock { idle -> [HTTP1Connection] in
            let count = idle.count - wanted
            guard count > 0 else { return [] }
            defer { idle.removeFirst(count) }
            return Array(idle.prefix(count))
        }
        for connection in spare { connection.close() }
    }

    /// Closes the idle connections.
    func shutdown() async {
        let parked = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle
        }
        // All at once: one after the other, 512 connections took some 30 ms to close at the end of a run.
        let closed = parked.map { connection in
            let promise = connection.channel.eventLoop.makePromise(of: Void.self)
            connection.channel.close(promise: promise)
            return promise.futureResult
        }
        guard let loop = closed.first?.eventLoop else { return }
        try? await EventLoopFuture.andAllComplete(closed, on: loop).get()
    }

    /// Opens a new connection, TLS set up when the endpoint is https.
    func connect(deadline: NIODeadline) -> EventLoopFuture<HTTP1Connection> {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let context: NIOSSLContext?
        let address: Address
        do {
            context = try tls?.get()
            address = try self.address.get()
        } catch {
            return loop.makeFailedFuture(error)
        }
        let serverName = serverName
        let tunnel = tunnel
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(max(deadline - .now(), .milliseconds(1)))
            // TCP_NODELAY is an IPPROTO_TCP option: as a SOL_SOCKET option the same number is SO_DEBUG,
            // which only a process with CAP_NET_ADMIN may set (every connect failed as the service's user).
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                // Through a tunnel, the exchange's handlers come once the proxy has opened it.
                tunnel == nil ? channel.eventLoop.makeCompletedFuture { try Self.addExchangeHandlers(to: channel, tls: context, serverName: serverName) }
                    : channel.eventLoop.makeSucceededVoidFuture()
            }
        var connected: EventLoopFuture<any Channel>
        switch address {
        case .socket(let socket): connected = bootstrap.connect(to: socket)
        case .name(let host, let port): connected = bootstrap.resolver(names.resolver(on: loop)).connect(host: host, port: port)
        }
        if let tunnel {
            connected = connected.flatMapErrorThrowing { throw ProxyFailure(cause: $0) }.flatMap { channel in
                ProxyTunnel.open(on: channel, through: tunnel.proxy, to: tunnel.url, deadline: deadline).flatMapThrowing {
                    do {
                        try Self.addExchangeHandlers(to: channel, tls: context, serverName: serverName)
                    } catch {
                        channel.close(promise: nil)
                        throw error
                    }
                    return channel
                }
            }
        } else if absoluteForm {
            // Absolute-form through an HTTP proxy: a connection that cannot be made is the proxy's failure.
            connected = connected.flatMapErrorThrowing { throw ProxyFailure(cause: $0) }
        }
        return connected.flatMapThrowing { channel in
            let handler = try channel.pipeline.syncOperations.handler(type: ExchangeHandler.self)
            return HTTP1Connection(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
        }
    }

    /// TLS (for https endpoints), the writer of encoded requests, NIO's response decoder and the exchange handler.
    private static func addExchangeHandlers(to channel: any Channel, tls context: NIOSSLContext?, serverName: String?) throws {
        let pipeline = channel.pipeline.syncOperations
        if let context {
            try pipeline.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName))
        }
        try pipeline.addHandler(EncodedRequestWriter())
        try pipeline.addHandler(ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .dropBytes)))
        try pipeline.addHandler(ExchangeHandler())
    }
}
