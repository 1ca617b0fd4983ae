import Hummingbird
import NIOCore

/// The request context of `VerifyingReceiver`: Hummingbird's basics plus the peer's address, for `--allow-ip`.
public struct ReceiverRequestContext: RequestContext, RemoteAddressRequestContext {
    /// Hummingbird's own per-request values.
    public var coreContext: CoreRequestContextStorage
    /// The address of the connected peer (never a forwarded-for header, which anyone can write).
    public let remoteAddress: SocketAddress?

    /// Makes the context for a request arriving on the source's channel.
    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}
