/// One HTTP header written as `Name: value`, as `hookspool verify --header` and `--headers-file` take them.
///
/// ```swift
/// let header = try HeaderLine("webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek")
/// // header.name == "webhook-id", header.value == "msg_p5jXN8AQM9LWM0D4loKWxJek"
/// ```
///
/// The name is everything before the first `:` and must be an HTTP token (letters, digits and
/// ``!#$%&'*+-.^_`|~``); the value is the rest, without surrounding spaces and tabs, and may be empty.
public struct HeaderLine: Sendable, Hashable {
    /// Why a line is not a header; names the line of a headers file when there is one.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The line of the headers file, counting from 1, or `nil` for a single `--header`.
        public let line: Int?
        /// What is wrong with it.
        public let reason: String

        /// The reason, prefixed with `line N: ` when there is a line.
        public var description: String {
            line.map { "line \($0): \(reason)" } ?? reason
        }
    }

    /// The header's name, as written.
    public let name: String
    /// The header's value, without surrounding spaces and tabs.
    public let value: String

    /// Parses `Name: value`; throws when there is no `:`, the name is empty, or it is not an HTTP token.
    public init(_ text: String) throws(ParseError) {
        try self.init(text, line: nil)
    }

    private init(_ text: String, line: Int?) throws(ParseError) {
        guard let colon = text.firstIndex(of: ":") else {
            throw ParseError(line: line, reason: "\(Self.excerpt(text)) is not a header; write it as 'Name: value'")
        }
        let name = Self.trimmed(text[..<colon])
        guard !name.isEmpty else {
            throw ParseError(line: line, reason: "the header before ':' has no name; write it as 'Name: value'")
        }
        guard name.utf8.allSatisfy(Self.isTokenByte) else {
            throw ParseError(line: line, reason: "\(Self.excerpt(String(name))) is not a valid header name (letters, digits and !#$%&'*+-.^_`|~ only)")
        }
        self.name = String(name)
        self.value = String(Self.trimmed(text[text.index(after: colon)...]))
    }

    /// The headers of a headers file: one `Name: value` per line; blank lines and lines starting with `#` are skipped,
    /// and line endings may be `\n` or `\r\n`.
    public static func parseFile(_ text: String) throws(ParseError) -> [HeaderLine] {
        var headers: [HeaderLine] = []
        // "\r\n" is one Character in Swift, so it has to be named as a separator of its own.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (index, line) in lines.enumerated() {
            let content = trimmed(line)
            if content.isEmpty || content.hasPrefix("#") { continue }
            headers.append(try HeaderLine(String(line), line: index + 1))
        }
        return headers
    }

    /// The pair as `WebhookVerifier.verify(headers:body:)` takes it.
    public var pair: (String, String) { (name, value) }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }

    /// RFC 9110 `tchar`.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    /// The start of `text`, quoted, so a long or odd argument stays readable in a message.
    private static func excerpt(_ text: String) -> String {
        let limit = 40
        let shown = text.count > limit ? String(text.prefix(limit)) + "…" : text
        return "'\(shown)'"
    }
}
