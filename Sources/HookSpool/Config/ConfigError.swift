/// A mistake in the config file, with where it is.
public struct ConfigIssue: Sendable, Hashable, CustomStringConvertible {
    /// The config file, as given.
    public var file: String
    /// 1-based line, or nil when the mistake is not at one place (e.g. the file is unreadable).
    public var line: Int?
    /// 1-based column.
    public var column: Int?
    /// The dotted key path, e.g. `endpoints[1].url`.
    public var key: String?
    /// What is wrong and what to do.
    public var message: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    /// `file:line:column: key: message`.
    public var description: String {
        var text = file
        if let line {
            text += ":\(line)"
            if let column { text += ":\(column)" }
        }
        text += ": "
        if let key, !key.isEmpty { text += "\(key): " }
        return text + message
    }
}

/// Every mistake found in a config file; loading reports them all at once.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// The mistakes, in file order.
    public var issues: [ConfigIssue]

    public init(issues: [ConfigIssue]) {
        self.issues = issues
    }

    public var description: String {
        issues.map(\.description).joined(separator: "\n")
    }
}
