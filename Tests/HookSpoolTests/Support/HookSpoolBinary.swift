import Foundation

/// The real `hookspool` binary, run through `ChildProcess`: to its exit with `run`, or in the
/// background with `start` (for `hookspool receive`, see `ReceiveProcess`, and for runs a test
/// signals or kills).
enum HookSpoolBinary {
    /// The binary SwiftPM built next to the test bundle.
    static var path: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        let candidates = [bundle.appendingPathComponent("hookspool").path, bundle.deletingLastPathComponent().appendingPathComponent("hookspool").path]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[0]
    }

    /// Runs `hookspool arguments…` in `directory` to its exit; killed, and this throws, after `timeout`.
    ///
    /// - Parameters:
    ///   - stdin: its standard input (`/dev/null` when nil).
    ///   - environment: added to the test process's environment.
    ///   - stderr: `.terminal` to give it a pseudo-terminal as its standard error.
    static func run(
        _ arguments: [String],
        in directory: String,
        stdin: String? = nil,
        environment: [String: String] = [:],
        stderr: ChildProcess.ErrorOutput = .pipe,
        timeout: Duration = .seconds(60)
    ) async throws -> ChildProcess.Exit {
        try await ChildProcess.run(
            path, arguments, in: directory, environment: environment, stdin: stdin.map { Data($0.utf8) }, stderr: stderr, timeout: timeout
        )
    }

    /// Starts `hookspool arguments…` in `directory` in the background: wait for it, signal it, stop it.
    static func start(_ arguments: [String], in directory: String, environment: [String: String] = [:]) async throws -> ChildProcess {
        try await ChildProcess.start(path, arguments, in: directory, environment: environment)
    }
}
