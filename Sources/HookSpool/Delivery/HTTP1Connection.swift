import NIOCore
import NIOHTTP1

/// What an endpoint answered to one request.
struct HTTPAnswer: Sendable {
    var status: Int
    var retryAfter: String?
    /// The start of the body, kept when asked for (at most `HTTPTransport.maxExcerpt` bytes).
    var excerpt: ByteBuffer?
    /// The body stopped before its end: the deadline passed, the connection closed, or it was too long.
    var cutShort = false
    /// The connection may carry another request.
    var reusable = false
}

/// Why an exchange ended without an answer.
enum HTTPExchangeError: Error, Sendable {
    /// The deadline passed before the answer's head arrived.
    case timeout
    /// The connection closed before the answer's head arrived; `cause` is the error that closed it, if any.
    case closed(cause: (any Error)?)
    /// The waiting task was cancelled.
    case cancelled
}

/// One keep-alive HTTP/1.1 connection carrying one request at a time.
///
/// The request goes out encoded in one buffer with a single flush, so the kernel sees one write.
final class HTTP1Connection: Sendable {
    let channel: any Channel
    private let handler: NIOLoopBound<ExchangeHandler>

    init(channel: any Channel, handler: NIOLoopBound<ExchangeHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// Whether the connection can carry another request.
    var isUsable: Bool { channel.isActive }

    /// Sends one POST, encoded by `RequestEncoding`; the future gives the answer, which says whether the
    /// connection may carry another. A failure's body is kept (its start), a success's only when `keepSuccessBody`.
    func send(_ request: ByteBuffer, deadline: NIODeadline, keepSuccessBody: Bool) -> EventLoopFuture<HTTPAnswer> {
        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HTTPAnswer.self)
        let handler = handler
        if loop.inEventLoop {
            handler.value.start(request: request, deadline: deadline, keepSuccessBody: keepSuccessBody, promise: promise)
        } else {
            loop.execute {
                handler.value.start(request: request, deadline: deadline, keepSuccessBody: keepSuccessBody, promise: promise)
            }
        }
        return promise.futureResult
    }

    /// Abandons the request in flight, if any, and closes the connection.
    func cancel() {
        let handler = handler
        channel.eventLoop.execute { handler.value.cancel() }
    }

    func close() {
        channel.close(promise: nil)
    }
}

/// The pipeline's last handler: matches each request with its answer and enforces the deadline.
///
/// One timer serves a connection's exchanges one after another: it is set for the first exchange's
/// deadline and, when it fires on a later exchange whose deadline is still ahead, moved there; an
/// exchange with an earlier deadline than the timer's moves it at once. A timer per request
/// (scheduled, then cancelled a millisecond later) took 3% of the user-space samples in a profile.
final class ExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private struct Exchange {
        var promise: EventLoopPromise<HTTPAnswer>
        var keepSuccessBody: Bool
        var deadline: NIODeadline
        var answer: HTTPAnswer?
        var keep = false
        var keepAlive = true
        var bodyBytes = 0
    }

    private var context: ChannelHandlerContext?
    /// `EncodedRequestWriter`'s place in the pipeline: a request's bytes are written from there,
    /// past the response decoder (which only needs to see the head) and the writer itself.
    private var writer: ChannelHandlerContext?
    private var current: Exchange?
    private var closeCause: (any Error)?
    /// Inside `channelRead`: an exchange that ends there is completed at `channelReadComplete`.
    private var reading = false
    /// An exchange that ended while its answer was being read, completed once the read is done:
    /// what its completion starts (the next request, on this connection) then goes straight to
    /// the response decoder instead of being queued behind its decoding (3% of a run's samples).
    private var ended: (promise: EventLoopPromise<HTTPAnswer>, result: Result<HTTPAnswer, any Error>)?
    /// The connection's timer, and when it fires: while an exchange runs, never later than its deadline.
    private var timer: (task: Scheduled<Void>, at: NIODeadline)?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        writer = try? context.pipeline.syncOperations.context(handlerType: EncodedRequestWriter.self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        completeEnded()
        self.context = nil
        timer?.task.cancel()
        timer = nil
    }

    /// What the response decoder is shown of each request: it only needs the method.
    private static let post = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/")

    func start(request: ByteBuffer, deadline: NIODeadline, keepSuccessBody: Bool, promise: EventLoopPromise<HTTPAnswer>) {
        guard let context, context.channel.isActive, current == nil else {
            promise.fail(HTTPExchangeError.closed(cause: closeCause))
            return
        }
        current = Exchange(promise: promise, keepSuccessBody: keepSuccessBody, deadline: deadline)
        // A timer that fires first is kept: it moves on to this deadline then.
        if (timer.map { $0.at > deadline }) ?? true {
            setTimer(at: deadline, on: context.eventLoop)
        }
        // The head tells the decoder an answer is due (`EncodedRequestWriter` drops it); the bytes
        // go out from the writer's place: their pass through the decoder's write path and the
        // writer took 3% of a run's samples.
        context.write(wrapOutboundOut(.head(Self.post)), promise: nil)
        if let writer {
            writer.writeAndFlush(NIOAny(IOData.byteBuffer(request)), promise: nil)
        } else {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(request))), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reading = true
        defer { reading = false }
        guard var exchange = current else {
            // Bytes nobody asked for: the connection is out of step; drop it.
            context.close(promise: nil)
            return
        }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let status = Int(head.status.code)
            exchange.answer = HTTPAnswer(status: status, retryAfter: head.headers.first(name: "retry-after"))
            exchange.keep = exchange.keepSuccessBody || !(200...299).contains(status)
            exchange.keepAlive = head.isKeepAlive
            current = exchange
        case .body(let part):
            guard var answer = exchange.answer else { return }
            exchange.bodyBytes += part.readableBytes
            if exchange.keep {
                var kept = answer.excerpt ?? ByteBuffer()
                let room = HTTPTransport.maxExcerpt - kept.readableBytes
                if room > 0, let slice = part.getSlice(at: part.readerIndex, length: min(room, part.readableBytes)) {
                    kept.writeImmutableBuffer(slice)
                    answer.excerpt = kept
                    exchange.answer = answer
                }
            }
            current = exchange
            if exchange.bodyBytes >= HTTPTransport.maxBodyRead {
                // Enough read; the rest goes with the connection.
                answer.cutShort = true
                finish(.success(answer))
            }
        case .end:
            guard var answer = exchange.answer else { return }
            // After a 101 the decoder stops parsing: that connection never carries another request.
            answer.reusable = exchange.keepAlive && answer.status >= 200
            finish(.success(answer))
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        completeEnded()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeCause = closeCause ?? error
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        completeEnded()
        timer?.task.cancel()
        timer = nil
        endEarly(HTTPExchangeError.closed(cause: closeCause))
        context.fireChannelInactive()
    }

    /// The task waiting for the answer was cancelled.
    func cancel() {
        guard current != nil else { return }
        finish(.failure(HTTPExchangeError.cancelled))
    }

    private func setTimer(at deadline: NIODeadline, on loop: any EventLoop) {
        timer?.task.cancel()
        let task = loop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            guard let self else { return }
            self.timerFired(setFor: deadline)
        }
        timer = (task, deadline)
    }

    /// Ends the current exchange if its deadline has passed, else waits for it; idle, the timer stops.
    private func timerFired(setFor deadline: NIODeadline) {
        // A timer replaced after it fell due can still run: the one that replaced it stays.
        guard timer?.at == deadline else { return }
        timer = nil
        guard let exchange = current, let loop = context?.eventLoop else { return }
        if exchange.deadline <= .now() {
            endEarly(HTTPExchangeError.timeout)
        } else {
            setTimer(at: exchange.deadline, on: loop)
        }
    }

    /// Ends the exchange before the answer's end: an answer whose head arrived stands, cut short;
    /// otherwise `error`.
    private func endEarly(_ error: HTTPExchangeError) {
        guard let exchange = current else { return }
        if var answer = exchange.answer {
            answer.cutShort = true
            finish(.success(answer))
        } else {
            finish(.failure(error))
        }
    }

    /// Completes the exchange; closes the connection unless it may carry another request.
    private func finish(_ result: Result<HTTPAnswer, any Error>) {
        guard let exchange = current else { return }
        current = nil
        var reusable = false
        if case .success(let answer) = result { reusable = answer.reusable }
        if !reusable { context?.close(promise: nil) }
        if reading {
            ended = (exchange.promise, result)
        } else {
            exchange.promise.completeWith(result)
        }
    }

    /// Completes the exchange that ended during the read just done, if one did.
    private func completeEnded() {
        guard let (promise, result) = ended else { return }
        ended = nil
        promise.completeWith(result)
    }
}
