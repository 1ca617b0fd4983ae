import Foundation

/// Resolves a `secret:` or `url:` value: `env:NAME`, `file:PATH`, or the value itself.
enum SecretReference {
    /// Why a secret reference could not be resolved; never contains the secret.
    struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        var description: String
    }

    /// Whether `text` is an `env:` or `file:` reference rather than the value itself.
    static func isReference(_ text: String) -> Bool {
        text.hasPrefix("env:") || text.hasPrefix("file:")
    }

    /// The value `text` stands for; `noun` (`secret`, `URL`) names it in messages, which never contain the value.
    static func resolve(_ text: String, noun: String = "secret", baseDirectory: String, environment: [String: String]) -> Result<String, Problem> {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty else { return .failure(Problem(description: "env: needs a variable name, e.g. env:ORDERS_\(noun.uppercased())")) }
            guard let value = environment[name] else {
                return .failure(Problem(description: "environment variable \(name) is not set"))
            }
            guard !value.isEmpty else { return .failure(Problem(description: "environment variable \(name) is empty")) }
            return .success(value)
        }
        if text.hasPrefix("file:") {
            let given = String(text.dropFirst(5))
            guard !given.isEmpty else { return .failure(Problem(description: "file: needs a path, e.g. file:/etc/hookspool/orders.\(noun.lowercased())")) }
            let path = given.hasPrefix("/") ? given : URL(fileURLWithPath: baseDirectory).appendingPathComponent(given).standardizedFileURL.path
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: path))
            } catch {
                return .failure(Problem(description: "cannot read \(noun) file \(path): \(FileSystemError.describe(error))"))
            }
            guard var value = String(data: data, encoding: .utf8) else {
                return .failure(Problem(description: "\(noun) file \(path) is not valid UTF-8"))
            }
            // "\r\n" is one Character, so one removeLast() drops either ending.
            if value.hasSuffix("\r\n") || value.hasSuffix("\n") {
                value.removeLast()
            }
            guard !value.isEmpty else { return .failure(Problem(description: "\(noun) file \(path) is empty")) }
            return .success(value)
        }
        return .success(text)
    }
}
