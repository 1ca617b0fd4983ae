import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// One request a `LoopbackReceiver` received.
public struct ReceivedRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    /// When the request's body had arrived.
    public var receivedAt: ContinuousClock.Instant
    /// The peer's address, e.g. `127.0.0.1`.
    public var remoteAddress: String?

    /// The first value of header `name`, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let lowered = name.lowercased()
        return headers.first { $0.0.lowercased() == lowered }?.1
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// What a `LoopbackReceiver` answers.
public struct ReceiverReply: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: String
    /// Wait this long before answering (a slow or hanging receiver).
    public var delay: Duration?
    /// Send the status line, the headers and the first byte of the body at once, then wait this long for the rest.
    public var bodyDelay: Duration?

    public init(status: Int, headers: [(String, String)] = [], body: String = "", delay: Duration? = nil, bodyDelay: Duration? = nil) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delay = delay
        self.bodyDelay = bodyDelay
    }

    public static let ok = ReceiverReply(status: 200, body: "ok")
}

/// An HTTP server on a loopback port that records every request and answers through a closure.
///
/// Used by the demo's receivers and by the tests; `run` scopes its lifetime.
public final class LoopbackReceiver: Sendable {
    /// The port it listens on.
    public let port: Int
    private let store: Store

    private init(port: Int, store: Store) {
        self.port = port
        self.store = store
    }

    /// Every request so far, in arrival order.
    public var requests: [ReceivedRequest] { store.requests.withLock { $0 } }

    /// Starts a receiver on `host` (port 0 picks a free one), runs `body`, then stops the receiver.
    public static func run<Result: Sendable>(
        host: String = "127.0.0.1",
        port: Int = 0,
        logger: Logger = Logger(label: "hookspool.receiver", factory: { _ in SwiftLogNoOpLogHandler() }),
        handler: @escaping @Sendable (ReceivedRequest) async -> ReceiverReply,
        _ body: @Sendable (LoopbackReceiver) async throws -> Result
    ) async throws -> Result {
        let store = Store()
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let responder = CallbackResponder { (request: Request, context: BasicRequestContext) async throws -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 16 << 20)
            let received = ReceivedRequest(
                method: request.method.rawValue,
                path: request.uri.path,
                headers: request.headers.map { ($0.name.rawName, $0.value) },
                body: Array(buffer.readableBytesView),
                receivedAt: .now,
                remoteAddress: nil
            )
            store.requests.withLock { $0.append(received) }
            let reply = await handler(received)
            if let delay = reply.delay {
                try await Task.sleep(for: delay)
            }
            var fields = HTTPFields()
            for (name, value) in reply.headers {
                if let fieldName = HTTPField.Name(name) { fields.append(HTTPField(name: fieldName, value: value)) }
            }
            let body: ResponseBody
            if let bodyDelay = reply.bodyDelay {
                let text = reply.body.isEmpty ? "slow body" : reply.body
                body = ResponseBody { writer in
                    try await writer.write(ByteBuffer(string: String(text.prefix(1))))
                    try await Task.sleep(for: bodyDelay)
                    try await writer.write(ByteBuffer(string: String(text.dropFirst())))
                    try await writer.finish(nil)
                }
            } else {
                body = ResponseBody(byteBuffer: ByteBuffer(string: reply.body))
            }
            return Response(status: HTTPResponse.Status(code: reply.status), headers: fields, body: body)
        }
        let app = Application(
            responder: responder,
            configuration: .init(address: .hostname(host, port: port), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var iterator = portStream.makeAsyncIterator()
            guard let boundPort = await iterator.next(), boundPort > 0 else {
                await group.triggerGracefulShutdown()
                throw ReceiverError(description: "the receiver did not start on \(host):\(port)")
            }
            let receiver = LoopbackReceiver(port: boundPort, store: store)
            do {
                let result = try await body(receiver)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    /// Waits until at least `count` requests have arrived; throws after `timeout`.
    @discardableResult
    public func waitForRequests(_ count: Int, timeout: Duration = .seconds(10)) async throws -> [ReceivedRequest] {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let current = requests
            if current.count >= count { return current }
            if ContinuousClock.now >= deadline {
                throw ReceiverError(description: "expected \(count) requests within \(timeout), got \(current.count)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    private final class Store: Sendable {
        let requests = Mutex<[ReceivedRequest]>([])
    }
}

/// A receiver failed to start or a wait ran out.
public struct ReceiverError: Error, Sendable, CustomStringConvertible {
    public var description: String
}
