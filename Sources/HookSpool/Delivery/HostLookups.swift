import NIOCore
import NIOPosix
import Synchronization

/// The host names a run connects to by name, each looked up once for every endpoint and
/// connection on it (not once per connection, as a bootstrap on its own does).
///
/// Names of endpoints under the address guard are resolved and pinned before the run
/// (`HostResolver`); these are the others (`allow_private`), connected to by name. A failed
/// lookup is not kept: the next connection tries again.
final class HostLookups: Sendable {
    private let known = Mutex<[String: EventLoopFuture<[IPAddress]>]>([:])
    private let lookup: @Sendable (String) -> Result<[IPAddress], HostResolver.LookupError>

    /// Lookups through `lookup` (the system's resolver; another in tests).
    init(lookup: @escaping @Sendable (String) -> Result<[IPAddress], HostResolver.LookupError> = HostResolver.lookup) {
        self.lookup = lookup
    }

    /// The addresses `host` resolves to, in the order the system's resolver gives them.
    func addresses(of host: String, on loop: any EventLoop) -> EventLoopFuture<[IPAddress]> {
        let (future, started) = known.withLock { known -> (EventLoopFuture<[IPAddress]>, Bool) in
            if let pending = known[host] { return (pending, false) }
            let lookup = self.lookup
            let pending = NIOThreadPool.singleton.runIfActive(eventLoop: loop) { lookup(host) }.flatMapThrowing { try $0.get() }
            known[host] = pending
            return (pending, true)
        }
        if started {
            future.whenFailure { [self] _ in
                known.withLock { known in
                    if known[host] === future { known[host] = nil }
                }
            }
        }
        return future.hop(to: loop)
    }

    /// A resolver for one connection's happy-eyeballs attempt, answering from these lookups.
    func resolver(on loop: any EventLoop) -> any Resolver & Sendable {
        CachedResolver(lookups: self, loop: loop)
    }
}

/// Answers a bootstrap's A and AAAA queries from a run's `HostLookups`.
private struct CachedResolver: Resolver, Sendable {
    let lookups: HostLookups
    let loop: any EventLoop

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        addresses(host, port, .v4)
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        addresses(host, port, .v6)
    }

    func cancelQueries() {}

    private func addresses(_ host: String, _ port: Int, _ family: IPAddress.Family) -> EventLoopFuture<[SocketAddress]> {
        lookups.addresses(of: host, on: loop).map { addresses in
            addresses.filter { $0.family == family }.compactMap { try? SocketAddress(ipAddress: $0.description, port: port) }
        }
    }
}
