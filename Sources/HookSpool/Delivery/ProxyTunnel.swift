import NIOCore
import NIOExtras
import NIOHTTP1
import NIOSOCKS

/// A failure before the proxy had the way to the endpoint open: the proxy's, reported as `proxy_error`.
struct ProxyFailure: Error {
    let cause: any Error
}

/// Opens a tunnel to an endpoint through a proxy on a connected channel, with swift-nio-extras'
/// handlers: `NIOHTTP1ProxyConnectHandler` (HTTP `CONNECT`) or NIOSOCKS' `SOCKSClientHandler`.
enum ProxyTunnel {
    /// Asks `proxy` for a tunnel to `url`'s host and port; succeeds once the tunnel stands and the
    /// handshake's own handlers have left the pipeline, fails with a `ProxyFailure`.
    static func open(on channel: any Channel, through proxy: EgressProxy, to url: EndpointURL, deadline: NIODeadline) -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        // Made before any handler is added, and failed with the rest when adding one fails.
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        do {
            let pipeline = channel.pipeline.syncOperations
            switch proxy.kind {
            case .http:
                let encoder = HTTPRequestEncoder()
                let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
                let authority = url.host.contains(":") ? "[\(url.host)]" : url.host
                var headers = HTTPHeaders([("Host", "\(authority):\(url.port)")])
                if let authorization = proxy.authorization { headers.add(name: "Proxy-Authorization", value: authorization) }
                try pipeline.addHandler(encoder, name: "proxy-request-encoder")
                try pipeline.addHandler(decoder, name: "proxy-response-decoder")
                try pipeline.addHandler(
                    NIOHTTP1ProxyConnectHandler(targetHost: authority, targetPort: url.port, headers: headers, deadline: deadline, promise: handshake)
                )
                handshake.futureResult.flatMap {
                    channel.pipeline.removeHandler(name: "proxy-response-decoder").flatMap { channel.pipeline.removeHandler(name: "proxy-request-encoder") }
                }.cascade(to: promise)
            case .socks5:
                let target: SOCKSAddress
                if let literal = url.literalAddress {
                    target = .address(try SocketAddress(ipAddress: literal.description, port: url.port))
                } else {
                    target = .domain(url.host, port: url.port)
                }
                let waiter = SOCKSEstablishedWaiter(deadline: deadline, promise: handshake)
                try pipeline.addHandler(SOCKSClientHandler(targetAddress: target))
                try pipeline.addHandler(waiter)
                handshake.futureResult.flatMap { channel.pipeline.removeHandler(waiter) }.cascade(to: promise)
            }
        } catch {
            handshake.fail(error)
            promise.fail(error)
        }
        return promise.futureResult.flatMapErrorThrowing { error in
            channel.close(promise: nil)
            throw error is ProxyFailure ? error : ProxyFailure(cause: error)
        }
    }
}

/// Waits for NIOSOCKS' `SOCKSProxyEstablishedEvent`; fails on an error, a close, or the deadline.
private final class SOCKSEstablishedWaiter: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = ByteBuffer

    let promise: EventLoopPromise<Void>
    private let deadline: NIODeadline

    init(deadline: NIODeadline, promise: EventLoopPromise<Void>) {
        self.deadline = deadline
        self.promise = promise
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let promise = promise
        let channel = context.channel
        let timer = context.eventLoop.scheduleTask(deadline: deadline) {
            promise.fail(ChannelError.connectTimeout(.zero))
            channel.close(promise: nil)
        }
        promise.futureResult.whenComplete { _ in timer.cancel() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SOCKSProxyEstablishedEvent {
            promise.succeed(())
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
