#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOPosix

/// Resolves endpoint host names once per run and decides which address each is pinned to.
///
/// A pinned name keeps its address for the whole run, so a later DNS answer cannot point it
/// somewhere else (DNS rebinding). Endpoints with `allow_private: true` are not pinned:
/// they are trusted to reach any address, and keep the client's own address fallback.
struct HostResolver: Sendable {
    /// What resolving one endpoint's host gave.
    enum Resolution: Sendable, Equatable {
        /// Connect as usual (literal address, or a trusted endpoint).
        case direct
        /// Connect to this address.
        case pinned(String)
        /// The name did not resolve: `reason` says why.
        case unresolved(reason: String)
        /// Every address it resolved to is refused for this endpoint.
        case refused(address: String, category: String)
    }

    /// The resolution for each endpoint, by index, and the host-to-address pins for the HTTP client.
    static func resolve(_ endpoints: [Endpoint]) async -> (resolutions: [Resolution], pins: [String: String]) {
        var byHost: [String: Resolution] = [:]
        var resolutions: [Resolution] = []
        for endpoint in endpoints {
            // Through a proxy, the proxy resolves the name (this host may have no DNS for it).
            if endpoint.allowPrivate || !endpoint.enabled || endpoint.proxy != nil {
                resolutions.append(.direct)
                continue
            }
            if let literal = endpoint.url.literalAddress {
                // Checked when the config loaded; pinned so the client connects to exactly that
                // address and never looks the text up as a name (e.g. with a trailing dot).
                resolutions.append(.pinned(literal.description))
                byHost[endpoint.url.host] = .pinned(literal.description)
                continue
            }
            let host = endpoint.url.host
            if let known = byHost[host] {
                resolutions.append(known)
                continue
            }
            let resolution = await resolveName(host)
            byHost[host] = resolution
            resolutions.append(resolution)
        }
        var pins: [String: String] = [:]
        for (host, resolution) in byHost {
            if case .pinned(let address) = resolution { pins[host] = address }
        }
        return (resolutions, pins)
    }

    /// Looks `host` up and picks the first globally routable address.
    static func resolveName(_ host: String) async -> Resolution {
        let result: Result<[IPAddress], LookupError>
        do {
            result = try await NIOThreadPool.singleton.runIfActive { lookup(host) }
        } catch {
            return .unresolved(reason: "resolver unavailable")
        }
        switch result {
        case .failure(let error):
            return .unresolved(reason: error.reason)
        case .success(let addresses):
            if let usable = addresses.first(where: { $0.nonGlobalCategory == nil }) {
                return .pinned(usable.description)
            }
            guard let first = addresses.first, let category = first.nonGlobalCategory else {
                return .unresolved(reason: "no addresses")
            }
            return .refused(address: first.description, category: category.rawValue)
        }
    }

    struct LookupError: Error {
        var reason: String
    }

    /// Blocking getaddrinfo; run it on a thread pool.
    static func lookup(_ host: String) -> Result<[IPAddress], LookupError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Darwin)
        hints.ai_socktype = SOCK_STREAM
        #else
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            return .failure(LookupError(reason: String(cString: gai_strerror(status))))
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var cursor = list
        while let entry = cursor?.pointee {
            if let sockaddr = entry.ai_addr, let text = numericHost(sockaddr, length: entry.ai_addrlen), let address = IPAddress(text),
                !addresses.contains(address)
            {
                addresses.append(address)
            }
            cursor = entry.ai_next
        }
        return .success(addresses)
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>, length: socklen_t) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        let status = getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST)
        guard status == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
