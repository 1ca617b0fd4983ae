import Foundation

/// Reads values given on the command line with the config's syntaxes: secrets (`env:NAME`, `file:PATH`, literal) and durations.
///
/// ```swift
/// let secret = try CommandLineValues.secret("env:ORDERS_SECRET")   // the variable's value, never printed
/// let tolerance = CommandLineValues.duration("5m")                 // .seconds(300)
/// ```
public enum CommandLineValues {
    /// Why a secret reference could not be resolved; says which variable or file, never the secret.
    public struct SecretProblem: Error, Sendable, Equatable, CustomStringConvertible {
        /// What went wrong and what to check.
        public let description: String
    }

    /// Resolves `env:NAME`, `file:PATH` (relative to `baseDirectory`; one trailing newline ignored) or a literal secret,
    /// under the same rules as an endpoint's `secret:` in the config.
    public static func secret(
        _ text: String,
        baseDirectory: String = FileManager.default.currentDirectoryPath,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SecretProblem) -> String {
        switch SecretReference.resolve(text, baseDirectory: baseDirectory, environment: environment) {
        case .success(let value): return value
        case .failure(let problem): throw SecretProblem(description: problem.description)
        }
    }

    /// Parses a duration written as in the config (`250ms`, `10s`, `5m`, `1h`, `5d`); nil when it is not one.
    public static func duration(_ text: String) -> Duration? {
        ConfigValues.duration(text)
    }

    /// Renders a duration the way the config writes it, e.g. `5m` or `250ms`.
    public static func format(_ duration: Duration) -> String {
        ConfigValues.format(duration)
    }
}
