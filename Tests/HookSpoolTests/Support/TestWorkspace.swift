import Foundation
import Logging
@testable import HookSpool

/// A temporary folder holding a config and a spool, removed at the end of a test.
struct TestWorkspace: ~Copyable {
    let root: String

    /// A folder under `parent` (the temporary folder by default).
    init(in parent: String = NSTemporaryDirectory()) throws {
        var template = Array("\(parent)/hookspool-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        root = String(cString: made)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: root)
    }

    var spool: String { root + "/spool" }
    var reports: String { root + "/reports" }

    /// Writes a spool file the way a producer should: temporary name, then rename.
    func drop(_ name: String, _ lines: [String], terminated: Bool = true) throws {
        try FileManager.default.createDirectory(atPath: spool + "/incoming", withIntermediateDirectories: true)
        let text = lines.joined(separator: "\n") + (terminated ? "\n" : "")
        let temporary = "\(spool)/incoming/.\(name).tmp"
        try Data(text.utf8).write(to: URL(fileURLWithPath: temporary))
        try FileManager.default.moveItem(atPath: temporary, toPath: "\(spool)/incoming/\(name)")
    }

    /// The names in a spool folder (`incoming`, `processing`, `deferred`, `done`, `failed`), sorted;
    /// hookspool's hidden helpers (`.NAME.journal`, …) only when `hidden` is true.
    func files(_ folder: String, hidden: Bool = false) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(spool)/\(folder)")) ?? []).filter { hidden || $0.utf8.first != UInt8(ascii: ".") }.sorted()
    }

    func read(_ relativePath: String) throws -> String {
        try String(contentsOfFile: "\(root)/\(relativePath)", encoding: .utf8)
    }

    /// Writes `config.yaml` and returns its path.
    @discardableResult
    func writeConfig(_ yaml: String) throws -> String {
        let path = root + "/config.yaml"
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Parses `yaml` as if it were `config.yaml` in this workspace.
    func config(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> Config {
        try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: root, environment: environment)
    }

    /// Runs one batch in-process.
    func run(_ yaml: String, dryRun: Bool = false) async throws -> BatchRun.Outcome {
        let config = try config(yaml)
        return await BatchRun(config: config, dryRun: dryRun, logger: .quiet).run()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Logger {
    /// A logger that drops everything.
    static let quiet = Logger(label: "hookspool.test", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A config for end-to-end tests: one or more loopback endpoints with fast backoff.
func testConfig(
    endpoints: String,
    concurrency: Int = 16,
    timeout: String = "30s",
    maxAttempts: Int = 3,
    backoff: String = "{initial: 10ms, max: 50ms}",
    retryFor: String = "0s",
    retrySchedule: String? = nil,
    extra: String = ""
) -> String {
    """
    spool:
      dir: ./spool
    report:
      dir: ./reports
    delivery:
      concurrency: \(concurrency)
      timeout: \(timeout)
      max_attempts: \(maxAttempts)
      backoff: \(backoff)
      retry_for: \(retryFor)\(retrySchedule.map { "\n  retry_schedule: \($0)" } ?? "")
    \(extra)
    endpoints:
    \(endpoints)
    """
}

/// One endpoint block for `testConfig`.
func testEndpoint(
    name: String = "hook",
    port: Int,
    path: String = "/hook",
    events: String = #"["*"]"#,
    secret: String = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    signature: String = "standard",
    more: String = ""
) -> String {
    var text = """
      - name: \(name)
        url: http://127.0.0.1:\(port)\(path)
        events: \(events)
        secret: \(secret)
        signature: \(signature)
        allow_http: true
        allow_private: true
    """
    if !more.isEmpty { text += "\n" + more.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n") }
    return text
}
