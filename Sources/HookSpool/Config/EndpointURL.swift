import Foundation

/// An endpoint's URL, split into what is sent, what is shown, and what is connected to.
public struct EndpointURL: Sendable, Hashable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// The host as written, without brackets for IPv6.
    public var host: String
    /// The port, explicit or the scheme's default.
    public var port: Int
    /// The URL requests go to, without any user info.
    public var requestURL: String
    /// The path and query: the request line's target.
    public var requestTarget: String
    /// The `Host` header: the host, and the port when it is not the scheme's default.
    public var hostHeader: String
    /// The URL with credentials, query values and token-like path segments masked: safe for logs and reports.
    ///
    /// User info becomes `***@`, every query value `***` (names stay), and a path segment becomes `***`
    /// when it is 16 characters or longer, unless it is shorter than 32 and made only of lowercase letters,
    /// `-`, `_` and `.` (a slug such as `order-notifications`). So Slack's, Discord's and Teams' tokens,
    /// GUIDs, long hex, base64url and long numbers are hidden, while `hooks`, `services`, `api/webhooks`,
    /// `IncomingWebhook`, `v1` and short ids such as `T0ABC` stay readable. The host is shown as written.
    public var redacted: String
    /// The `Authorization` header value built from user info in the URL, if any.
    public var basicAuthorization: String?

    /// The redacted form.
    public var description: String { redacted }

    /// The host as a literal address, or nil when it is a name.
    public var literalAddress: IPAddress? { IPAddress(urlHost: host) }

    /// Why `text` is not a usable endpoint URL.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses and checks an `http(s)://host[:port]/path?query` URL.
    public init(parsing text: String) throws(ParseError) {
        guard !text.isEmpty, !text.unicodeScalars.contains(where: Self.isSpaceOrControl) else {
            throw ParseError(description: "a URL must not be empty or contain spaces or control characters")
        }
        guard let components = URLComponents(string: text) else {
            throw ParseError(description: "not a valid URL")
        }
        guard let scheme = components.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw ParseError(description: "the URL must start with https:// (or http:// with allow_http: true)")
        }
        guard var host = components.percentEncodedHost, !host.isEmpty else {
            throw ParseError(description: "the URL has no host")
        }
        if host.hasPrefix("[") && host.hasSuffix("]") {
            host = String(host.dropFirst().dropLast())
        }
        host = host.lowercased()
        // No DNS name is longer; a SOCKS5 request could not even carry one (its length is a byte).
        guard host.utf8.count <= 253 else {
            throw ParseError(description: "the host is longer than 253 bytes")
        }
        if components.fragment != nil {
            throw ParseError(description: "the URL has a #fragment, which is never sent; remove it")
        }
        let defaultPort = scheme == "https" ? 443 : 80
        let port = components.port ?? defaultPort
        guard (1...65535).contains(port) else {
            throw ParseError(description: "the port must be between 1 and 65535")
        }
        let hostPart = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        let portPart = components.port.map { ":\($0)" } ?? ""
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        let query = components.percentEncodedQuery.map { "?\($0)" } ?? ""

        self.scheme = scheme
        self.host = host
        self.port = port
        self.requestURL = "\(scheme)://\(hostPart)\(portPart)\(path)\(query)"
        self.requestTarget = "\(path)\(query)"
        self.hostHeader = port == defaultPort ? hostPart : "\(hostPart):\(port)"

        let hasUserInfo = components.percentEncodedUser != nil || components.percentEncodedPassword != nil
        let maskedQuery = components.percentEncodedQuery.map { query in
            "?" + query.split(separator: "&", omittingEmptySubsequences: false).map { pair in
                pair.contains("=") ? "\(pair.prefix { $0 != "=" })=***" : "***"
            }.joined(separator: "&")
        } ?? ""
        let maskedPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { Self.looksLikeToken($0) ? "***" : String($0) }
            .joined(separator: "/")
        self.redacted = "\(scheme)://\(hasUserInfo ? "***@" : "")\(hostPart)\(portPart)\(maskedPath)\(maskedQuery)"

        if hasUserInfo {
            let user = components.user ?? ""
            let password = components.password ?? ""
            self.basicAuthorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        } else {
            self.basicAuthorization = nil
        }
    }

    /// Whitespace (Unicode's, U+0085 and U+00A0 among them) or an ASCII control character.
    private static func isSpaceOrControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x21 || scalar.value == 0x7F || (scalar.value > 0x7F && scalar.properties.isWhitespace)
    }

    /// Whether a (percent-encoded) path segment is masked in `redacted`; the rule is in its doc comment.
    static func looksLikeToken(_ segment: Substring) -> Bool {
        let count = segment.utf8.count
        if count < 16 { return false }
        if count >= 32 { return true }
        // Only a-z, '-', '_' and '.': a slug of words, not a token.
        let isSlug = segment.utf8.allSatisfy { byte in (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F || byte == 0x2E }
        return !isSlug
    }
}
