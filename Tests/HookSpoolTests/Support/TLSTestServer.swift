import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// An HTTPS server on 127.0.0.1 (the `TLSFixtures` server certificate) that answers every POST
/// with 200 and records its path; with `requireClientCertificate` it accepts only clients that
/// present a certificate signed by the fixtures' CA (mutual TLS).
final class TLSTestServer: StoppableServer {
    let port: Int
    private let channel: any Channel
    private let recorder: Recorder

    /// What the server received so far: the path of each request.
    var paths: [String] { recorder.paths.withLock { $0 } }

    private init(port: Int, channel: any Channel, recorder: Recorder) {
        self.port = port
        self.channel = channel
        self.recorder = recorder
    }

    static func start(requireClientCertificate: Bool) async throws -> TLSTestServer {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(TLSFixtures.serverCertificate.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(TLSFixtures.serverKey.utf8), format: .pem))
        )
        if requireClientCertificate {
            tls.certificateVerification = .noHostnameVerification
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TLSFixtures.ca.utf8)))
        }
        let context = try NIOSSLContext(configuration: tls)
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let port = channel.localAddress?.port else { throw TestFailure("no port") }
        return TLSTestServer(port: port, channel: channel, recorder: recorder)
    }

    func stop() async {
        try? await channel.close()
    }

    /// Runs `body` with a started server and stops it afterwards.
    static func run<T>(requireClientCertificate: Bool, _ body: (TLSTestServer) async throws -> T) async throws -> T {
        try await start(requireClientCertificate: requireClientCertificate).serving(body)
    }

    private final class Recorder: Sendable {
        let paths = Mutex<[String]>([])
    }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let recorder: Recorder
        var path = ""

        init(recorder: Recorder) { self.recorder = recorder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                path = head.uri
            case .body:
                break
            case .end:
                let path = self.path
                recorder.paths.withLock { $0.append(path) }
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "3")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok\n")))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
