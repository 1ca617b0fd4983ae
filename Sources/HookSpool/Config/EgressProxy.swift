import Foundation

/// A proxy that an endpoint's connections go through: HTTP (`CONNECT` for https endpoints,
/// absolute-form requests for http ones) or SOCKS5. The proxy resolves the endpoint's host name.
public struct EgressProxy: Sendable, Hashable, CustomStringConvertible {
    /// The proxy's protocol.
    public enum Kind: String, Sendable {
        case http, socks5
    }

    public var kind: Kind
    /// The proxy's host as written, lowercased, without brackets for IPv6.
    public var host: String
    public var port: Int
    /// The `Proxy-Authorization` value made from the URL's user info (HTTP proxies only); never shown.
    public var authorization: String?
    /// The URL with its user info masked: safe for logs, `check` and reports.
    public var redacted: String

    public var description: String { redacted }

    /// Why `text` is not a usable proxy URL.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `http://[user:password@]host:port` or `socks5://host:port`.
    public init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty, !text.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true }) else {
            throw ParseError(description: "a proxy URL must not be empty or contain spaces or control characters")
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased() else {
            throw ParseError(description: "not a URL; write http://host:port or socks5://host:port")
        }
        guard let kind = Kind(rawValue: scheme) else {
            throw ParseError(description: "only http:// and socks5:// proxies are supported: http://host:port (CONNECT for https endpoints) or socks5://host:port")
        }
        guard var host = components.percentEncodedHost, !host.isEmpty else {
            throw ParseError(description: "the proxy URL has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let port = components.port else {
            // Nothing of the text is quoted: a proxy URL given by reference may hold credentials.
            throw ParseError(description: "give the proxy's port, e.g. http://host:3128 or socks5://host:1080")
        }
        guard (1...65535).contains(port) else {
            throw ParseError(description: "the proxy's port must be between 1 and 65535")
        }
        guard components.percentEncodedPath.isEmpty || components.percentEncodedPath == "/", components.query == nil, components.fragment == nil else {
            throw ParseError(description: "a proxy URL is only scheme://host:port; remove its path, query or fragment")
        }
        let hasUserInfo = components.percentEncodedUser != nil || components.percentEncodedPassword != nil
        if hasUserInfo && kind == .socks5 {
            throw ParseError(
                description: "SOCKS5 credentials are not supported (NIOSOCKS offers no username/password authentication); "
                    + "use a SOCKS5 proxy that admits this host, or an http:// proxy with credentials"
            )
        }
        self.kind = kind
        self.host = host.lowercased()
        self.port = port
        let hostPart = self.host.contains(":") ? "[\(self.host)]" : self.host
        redacted = "\(scheme)://\(hasUserInfo ? "***@" : "")\(hostPart):\(port)"
        if hasUserInfo {
            let user = components.user ?? ""
            let password = components.password ?? ""
            authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            authorization = nil
        }
    }
}

/// One entry of `delivery.no_proxy`: endpoints it matches connect directly, not through `delivery.proxy`.
public enum NoProxyRule: Sendable, Hashable, CustomStringConvertible {
    /// `hooks.example.com`: that host only.
    case host(String)
    /// `.example.com`: example.com and every name under it.
    case domain(String)
    /// `10.0.0.0/8` or `192.0.2.7`: endpoints whose URL host is a literal address inside it.
    case network(IPNetwork)

    /// Parses one entry; nil when it is none of the three.
    public init?(_ text: String) {
        let lowered = text.lowercased()
        if let network = IPNetwork(lowered) {
            self = .network(network)
            return
        }
        if lowered.contains("/") || lowered.contains(":") { return nil }
        let name = lowered.hasSuffix(".") ? String(lowered.dropLast()) : lowered
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        guard !name.isEmpty, name.allSatisfy({ allowed.contains($0) }), !name.contains("..") else { return nil }
        if name.hasPrefix(".") {
            guard name.count > 1 else { return nil }
            self = .domain(String(name.dropFirst()))
        } else {
            self = .host(name)
        }
    }

    /// Whether an endpoint at `url` connects directly.
    public func matches(_ url: EndpointURL) -> Bool {
        let host = url.host.hasSuffix(".") ? String(url.host.dropLast()) : url.host
        switch self {
        case .host(let name): return host == name
        case .domain(let domain): return host == domain || host.hasSuffix("." + domain)
        case .network(let network): return url.literalAddress.map(network.contains) ?? false
        }
    }

    public var description: String {
        switch self {
        case .host(let name): name
        case .domain(let domain): "." + domain
        case .network(let network): network.description
        }
    }
}
