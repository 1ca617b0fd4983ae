/// A glob over event types: `*` matches any run of characters, `?` exactly one; anything else matches itself.
public struct EventPattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let pattern: String
    private let characters: [Character]
    /// Whether the pattern names one type exactly (no `*` or `?`).
    let isLiteral: Bool

    /// Why a pattern was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Checks and keeps `pattern`.
    public init(_ pattern: String) throws(ParseError) {
        if pattern.isEmpty {
            throw ParseError(description: "an event pattern must not be empty")
        }
        if let bad = pattern.first(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) }) {
            throw ParseError(description: "an event pattern must not contain whitespace or control characters (found \(bad.unicodeScalars.first.map { "U+" + String($0.value, radix: 16, uppercase: true) } ?? "?"))")
        }
        if let bad = pattern.first(where: { "[]{}\\".contains($0) }) {
            throw ParseError(description: "'\(bad)' is not supported in event patterns; use '*' (any run of characters) or '?' (one character)")
        }
        self.pattern = pattern
        self.characters = Array(pattern)
        self.isLiteral = !characters.contains("*") && !characters.contains("?")
    }

    public var description: String { pattern }

    /// Whether `type` matches this pattern.
    public func matches(_ type: String) -> Bool {
        if pattern == "*" { return true }
        if isLiteral { return pattern == type }
        let text = Array(type)
        // Iterative wildcard match with single backtrack point: linear in practice, never exponential.
        var p = 0
        var t = 0
        var starP = -1
        var starT = 0
        while t < text.count {
            if p < characters.count && (characters[p] == "?" || characters[p] == text[t]) {
                p += 1
                t += 1
            } else if p < characters.count && characters[p] == "*" {
                starP = p
                starT = t
                p += 1
            } else if starP >= 0 {
                p = starP + 1
                starT += 1
                t = starT
            } else {
                return false
            }
        }
        while p < characters.count && characters[p] == "*" { p += 1 }
        return p == characters.count
    }
}
