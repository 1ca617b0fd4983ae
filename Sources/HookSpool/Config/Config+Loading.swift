import Foundation
import Yams

extension Config {
    /// Loads and validates the config at `file`; relative paths inside it resolve against its folder.
    ///
    /// - Throws: `ConfigError` listing every mistake with its line, column and key.
    public static func load(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigError) -> Config {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            guard let decoded = String(data: data, encoding: .utf8) else {
                throw ConfigError(issues: [ConfigIssue(file: file, message: "the file is not valid UTF-8")])
            }
            text = decoded
        } catch let error as ConfigError {
            throw error
        } catch {
            throw ConfigError(issues: [ConfigIssue(file: file, message: "cannot read the config file: \(FileSystemError.describe(error))")])
        }
        let folder = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent().path
        return try parse(yaml: text, file: file, baseDirectory: folder, environment: environment)
    }

    /// Parses and validates config text as if it came from `file` in `baseDirectory`.
    public static func parse(
        yaml: String,
        file: String,
        baseDirectory: String,
        environment: [String: String] = [:]
    ) throws(ConfigError) -> Config {
        var reader = ConfigReader(file: file, baseDirectory: baseDirectory, environment: environment)
        let root: Node?
        do {
            // The basic resolver: every scalar is read as text by `ConfigReader`, never by its
            // resolved tag, and the default one's regular expressions, run for each mapping key's
            // duplicate check, took half of a 1,000-endpoint config's load.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            throw ConfigError(issues: [reader.syntaxIssue(error)])
        }
        guard let root else {
            throw ConfigError(issues: [ConfigIssue(file: file, message: "the config is empty; see config.yaml in the hookspool repository for an annotated example")])
        }
        let config = reader.readConfig(root)
        if let config, reader.issues.isEmpty {
            return config
        }
        throw ConfigError(issues: reader.issues.sorted { ($0.line ?? 0, $0.column ?? 0) < ($1.line ?? 0, $1.column ?? 0) })
    }
}
