import Foundation
import Yams

// Reads typed values (mappings, strings, numbers, booleans, durations, sizes, paths) from YAML nodes, recording an issue for each mistake.
extension ConfigReader {
    /// Keys that later versions own; named so the message can say so.
    private static let notYetSupported: Set<String> = []

    // MARK: - Typed readers

    func mapping(_ node: Node) -> [String: Node]? {
        guard case .mapping(let mapping) = node else { return nil }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            if let name = key.scalar?.string { result[name] = value }
        }
        return result
    }

    /// The mapping's values by key, after refusing unknown keys; nil (with an issue) when `node` is not a mapping.
    mutating func mapping(_ node: Node, key: String, allowed: Set<String>) -> [String: Node]? {
        guard case .mapping(let mapping) = node else {
            fail(node, key, "expected a mapping (key: value lines)")
            return nil
        }
        var result: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else {
                fail(keyNode, key, "keys must be plain names")
                continue
            }
            if allowed.contains(name) {
                result[name] = value
                continue
            }
            let path = key.isEmpty ? name : "\(key).\(name)"
            if Self.notYetSupported.contains(name) {
                fail(keyNode, path, "not supported by this version of hookspool; remove it")
            } else {
                let suggestion = allowed.sorted().first { Self.editDistance($0, name) <= 2 }
                fail(keyNode, path, "unknown key" + (suggestion.map { "; did you mean '\($0)'?" } ?? "; known keys here: \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        return result
    }

    mutating func required(_ fields: [String: Node], _ node: Node, _ key: String, _ name: String) -> Node? {
        if let value = fields[name] { return value }
        fail(node, "\(key).\(name)", "missing (required)")
        return nil
    }

    mutating func string(_ node: Node, key: String, nonEmpty: Bool) -> String? {
        guard case .scalar(let scalar) = node else {
            if case .alias = node {
                fail(node, key, "YAML aliases are not supported here; write the value out")
            } else {
                fail(node, key, "expected a single value, not a list or mapping")
            }
            return nil
        }
        if scalar.style == .plain && (scalar.string == "~" || scalar.string == "null" || scalar.string.isEmpty) {
            fail(node, key, "missing value")
            return nil
        }
        if nonEmpty && scalar.string.isEmpty {
            fail(node, key, "must not be empty")
            return nil
        }
        return scalar.string
    }

    mutating func integer(_ node: Node, key: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        guard let value = Int(text) else {
            fail(node, key, "'\(text)' is not a whole number")
            return nil
        }
        guard range.contains(value) else {
            fail(node, key, "\(value) is out of range (\(range.lowerBound)…\(range.upperBound))")
            return nil
        }
        return value
    }

    mutating func bool(_ node: Node, key: String) -> Bool? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            fail(node, key, "'\(text)' is not a boolean; write true or false")
            return nil
        }
    }

    /// The value `text` stands for (itself, or what `env:NAME` / `file:PATH` holds); nil, with the
    /// problem recorded at `key`, when the reference cannot be read. `noun` names it in messages.
    mutating func resolveReference(_ node: Node, _ text: String, noun: String, key: String) -> String? {
        switch SecretReference.resolve(text, noun: noun, baseDirectory: baseDirectory, environment: environment) {
        case .success(let value):
            return value
        case .failure(let problem):
            fail(node, key, problem.description)
            return nil
        }
    }

    /// Reads a `rate_limit` value: a rate such as `50/s`, or `none` (given as `.some(nil)`).
    mutating func rateLimit(_ node: Node, key: String) -> RateLimit?? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        if text == "none" { return .some(nil) }
        do {
            return try RateLimit(parsing: text)
        } catch {
            fail(node, key, error.description)
            return nil
        }
    }

    mutating func duration(_ node: Node, key: String, in range: ClosedRange<Duration>) -> Duration? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        guard let value = ConfigValues.duration(text) else {
            fail(node, key, "'\(text)' is not a duration; write e.g. 250ms, 10s, 5m, 1h")
            return nil
        }
        guard range.contains(value) else {
            fail(node, key, "\(text) is out of range (\(ConfigValues.format(range.lowerBound))…\(ConfigValues.format(range.upperBound)))")
            return nil
        }
        return value
    }

    mutating func size(_ node: Node, key: String, in range: ClosedRange<Int>) -> Int? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        guard let value = ConfigValues.size(text) else {
            fail(node, key, "'\(text)' is not a size; write bytes as a whole number, or e.g. 512KiB, 1MiB")
            return nil
        }
        guard range.contains(value) else {
            fail(node, key, "\(text) is out of range (\(range.lowerBound)…\(range.upperBound) bytes)")
            return nil
        }
        return value
    }

    func path(_ text: String) -> String {
        let expanded = text.hasPrefix("~/") ? NSString(string: text).expandingTildeInPath : text
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(expanded).standardizedFileURL.path
    }

    mutating func fail(_ node: Node, _ key: String, _ message: String) {
        issues.append(ConfigIssue(file: file, line: node.mark?.line, column: node.mark?.column, key: key, message: message))
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where i <= a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where j <= b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
