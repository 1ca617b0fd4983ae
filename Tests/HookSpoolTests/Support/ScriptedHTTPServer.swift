import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// An HTTP/1.1 server on 127.0.0.1 whose every answer is scripted: for each request it calls
/// `script` with the connection's number and the request's index on that connection, and writes
/// the bytes the returned action holds, exactly as given, then closes the connection or not.
///
/// Requests are parsed by NIO's decoder; answers are raw bytes, so an answer can be anything:
/// well formed, chunked, cut short, or nothing at all.
///
/// ```swift
/// let server = try await ScriptedHTTPServer.start { request in
///     request.index == 0 ? .answer(status: 200, body: "ok") : .closeWithoutAnswer
/// }
/// ```
final class ScriptedHTTPServer: StoppableServer {
    /// One request as the script sees it.
    struct Request: Sendable {
        /// 1-based number of the connection it came on, in the order the server accepted them.
        var connection: Int
        /// 0-based index of the request on its connection.
        var index: Int
        var head: HTTPRequestHead
        var body: ByteBuffer
    }

    /// What the server does with one request: writes `bytes` (possibly none), then closes the
    /// connection when `close`, or else keeps it open and reads the next request.
    struct Action: Sendable {
        var bytes: ByteBuffer
        var close: Bool

        /// A complete answer with `Content-Length`; with `connectionClose` it says `Connection: close`
        /// and the server closes the connection after it.
        static func answer(
            status: Int, reason: String = "Status", headers: [(String, String)] = [], body: String = "", connectionClose: Bool = false
        ) -> Action {
            var all = headers
            all.append(("Content-Length", String(body.utf8.count)))
            if connectionClose { all.append(("Connection", "close")) }
            var bytes = ByteBuffer(string: head(status: status, reason: reason, headers: all))
            bytes.writeString(body)
            return Action(bytes: bytes, close: connectionClose)
        }

        /// A complete answer with `Transfer-Encoding: chunked`, `body` sent in chunks of `chunkSize` bytes.
        static func chunked(status: Int, reason: String = "Status", headers: [(String, String)] = [], body: ByteBuffer, chunkSize: Int = 8192) -> Action {
            var all = headers
            all.append(("Transfer-Encoding", "chunked"))
            var bytes = ByteBuffer(string: head(status: status, reason: reason, headers: all))
            var rest = body
            while rest.readableBytes > 0, let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes)) {
                bytes.writeString(String(chunk.readableBytes, radix: 16) + "\r\n")
                bytes.writeImmutableBuffer(chunk)
                bytes.writeString("\r\n")
            }
            bytes.writeString("0\r\n\r\n")
            return Action(bytes: bytes, close: false)
        }

        /// Exactly `text`, then a close or not.
        static func raw(_ text: String, close: Bool) -> Action {
            Action(bytes: ByteBuffer(string: text), close: close)
        }

        /// Closes the connection without a byte of answer.
        static let closeWithoutAnswer = Action(bytes: ByteBuffer(), close: true)
        /// Never answers; the connection stays open until the client or `stop` closes it.
        static let silence = Action(bytes: ByteBuffer(), close: false)

        /// A status line and headers, ending with the blank line.
        static func head(status: Int, reason: String = "Status", headers: [(String, String)]) -> String {
            var text = "HTTP/1.1 \(status) \(reason)\r\n"
            for (name, value) in headers { text += "\(name): \(value)\r\n" }
            return text + "\r\n"
        }
    }

    let port: Int
    private let channel: any Channel
    private let state: State

    /// How many connections the server accepted so far.
    var connections: Int { state.connections.withLock { $0 } }
    /// The requests received so far, in order of arrival.
    var requests: [Request] { state.requests.withLock { $0 } }

    private init(port: Int, channel: any Channel, state: State) {
        self.port = port
        self.channel = channel
        self.state = state
    }

    static func start(_ script: @escaping @Sendable (Request) -> Action) async throws -> ScriptedHTTPServer {
        let state = State()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                let number = state.connections.withLock { count in
                    count += 1
                    return count
                }
                state.children.withLock { $0.append(channel) }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try channel.pipeline.syncOperations.addHandler(Responder(connection: number, state: state, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else { throw TestFailure("no port") }
        return ScriptedHTTPServer(port: port, channel: channel, state: state)
    }

    /// Waits until the server received `count` requests; throws after `within`.
    func waitForRequests(_ count: Int, within: Duration = .seconds(5)) async throws {
        let clock = ContinuousClock()
        let end = clock.now.advanced(by: within)
        while state.requests.withLock({ $0.count }) < count {
            guard clock.now < end else { throw TestFailure("the server received fewer than \(count) requests within \(within)") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Stops listening and closes every connection still open.
    func stop() async {
        try? await channel.close()
        let children = state.children.withLock { $0 }
        for child in children {
            try? await child.close()
        }
    }

    /// Runs `body` with a started server and stops it afterwards.
    static func run<T>(_ script: @escaping @Sendable (Request) -> Action, _ body: (ScriptedHTTPServer) async throws -> T) async throws -> T {
        try await start(script).serving(body)
    }

    private final class State: Sendable {
        let connections = Mutex(0)
        let requests = Mutex<[Request]>([])
        let children = Mutex<[any Channel]>([])
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = ByteBuffer

        let connection: Int
        let state: State
        let script: @Sendable (Request) -> Action
        var index = 0
        var head: HTTPRequestHead?
        var body = ByteBuffer()

        init(connection: Int, state: State, script: @escaping @Sendable (Request) -> Action) {
            self.connection = connection
            self.state = state
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                guard let head else { return }
                let request = Request(connection: connection, index: index, head: head, body: body)
                index += 1
                self.head = nil
                state.requests.withLock { $0.append(request) }
                let action = script(request)
                guard action.close else {
                    if action.bytes.readableBytes > 0 {
                        context.writeAndFlush(wrapOutboundOut(action.bytes), promise: nil)
                    }
                    return
                }
                // Close only once the bytes are written, so none are lost to the close.
                let written = context.eventLoop.makePromise(of: Void.self)
                written.futureResult.assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
                context.writeAndFlush(wrapOutboundOut(action.bytes), promise: written)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
