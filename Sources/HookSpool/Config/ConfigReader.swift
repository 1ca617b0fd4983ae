import Foundation
import Yams

/// Walks the YAML node tree, building the config and collecting every mistake with its place.
struct ConfigReader {
    let file: String
    let baseDirectory: String
    let environment: [String: String]
    /// The moment the config is read (unix seconds): a secret list must have one valid then.
    let now: Int64
    var issues: [ConfigIssue] = []

    init(file: String, baseDirectory: String, environment: [String: String], now: Int64 = Int64(Date().timeIntervalSince1970)) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
        self.now = now
    }

    /// The keys each mapping of the config may hold, by its path (`endpoints[]` is each endpoint,
    /// `endpoints[].secret[]` a secret list entry written as a mapping); `schemas/config.schema.json`
    /// must list the same, which a test checks.
    static let keys: [String: Set<String>] = [
        "": ["spool", "report", "delivery", "limits", "metrics", "endpoints"],
        "spool": ["dir"],
        "report": ["dir", "keep"],
        "delivery": [
            "concurrency", "timeout", "max_attempts", "backoff", "retry_for", "retry_schedule", "disable_after", "rate_limit", "proxy", "no_proxy",
        ],
        "delivery.backoff": ["initial", "max"],
        "metrics": ["textfile"],
        "limits": ["max_event_bytes", "max_file_bytes"],
        "endpoints[]": [
            "name", "url", "events", "secret", "signature", "headers", "concurrency", "rate_limit", "ordering", "timeout",
            "max_attempts", "enabled", "allow_http", "allow_private", "tls", "proxy", "template", "content_type",
        ],
        "endpoints[].tls": ["ca_file", "cert_file", "key_file"],
        "endpoints[].secret[]": ["value", "not_before", "not_after"],
    ]

    /// The keys of the mapping at `path` (one of `keys`).
    static func keys(_ path: String) -> Set<String> { keys[path] ?? [] }

    mutating func readConfig(_ root: Node) -> Config? {
        guard let top = mapping(root, key: "", allowed: Self.keys("")) else {
            return nil
        }
        var spoolDirectory = path("./spool")
        var reportDirectory = path("./reports")
        var reportKeep = Config.defaultReportKeep
        var delivery = DeliverySettings()
        var limits = Limits()

        if let spool = top["spool"], let fields = mapping(spool, key: "spool", allowed: Self.keys("spool")) {
            if let dir = fields["dir"], let value = string(dir, key: "spool.dir", nonEmpty: true) { spoolDirectory = path(value) }
        }
        if let report = top["report"], let fields = mapping(report, key: "report", allowed: Self.keys("report")) {
            if let dir = fields["dir"], let value = string(dir, key: "report.dir", nonEmpty: true) { reportDirectory = path(value) }
            if let value = fields["keep"], let n = integer(value, key: "report.keep", in: 1...1_000_000) { reportKeep = n }
        }
        if let node = top["delivery"],
            let fields = mapping(node, key: "delivery", allowed: Self.keys("delivery"))
        {
            if let value = fields["concurrency"], let n = integer(value, key: "delivery.concurrency", in: 1...10_000) { delivery.concurrency = n }
            if let value = fields["timeout"], let d = duration(value, key: "delivery.timeout", in: .milliseconds(1)...(.seconds(3600))) { delivery.timeout = d }
            if let value = fields["max_attempts"], let n = integer(value, key: "delivery.max_attempts", in: 1...100) { delivery.maxAttempts = n }
            if let value = fields["backoff"], let backoff = readBackoff(value, key: "delivery.backoff") { delivery.backoff = backoff }
            if let value = fields["retry_for"], let d = duration(value, key: "delivery.retry_for", in: .zero...(.seconds(90 * 86_400))) { delivery.retryFor = d }
            if let value = fields["disable_after"], let d = duration(value, key: "delivery.disable_after", in: .seconds(1)...(.seconds(365 * 86_400))) { delivery.disableAfter = d }
            if let value = fields["rate_limit"], let limit = rateLimit(value, key: "delivery.rate_limit") { delivery.rateLimit = limit }
            if let value = fields["proxy"], let proxy = proxy(value, key: "delivery.proxy") { delivery.proxy = proxy }
            if let value = fields["no_proxy"], let rules = noProxy(value, key: "delivery.no_proxy") { delivery.noProxy = rules }
            if let value = fields["retry_schedule"] {
                if case .sequence(let items) = value, !items.isEmpty {
                    var schedule: [Duration] = []
                    for (index, item) in items.enumerated() {
                        if let d = duration(item, key: "delivery.retry_schedule[\(index)]", in: .milliseconds(1)...(.seconds(7 * 86_400))) { schedule.append(d) }
                    }
                    if schedule.count == items.count { delivery.retrySchedule = schedule }
                } else {
                    fail(value, "delivery.retry_schedule", "expected a list of durations, e.g. [5s, 5m, 30m, 2h, 5h, 10h]")
                }
            }
        }
        var metricsTextfile: String?
        if let node = top["metrics"], let fields = mapping(node, key: "metrics", allowed: Self.keys("metrics")) {
            if let value = required(fields, node, "metrics", "textfile") { metricsTextfile = readMetricsTextfile(value, key: "metrics.textfile") }
        }
        if let node = top["limits"], let fields = mapping(node, key: "limits", allowed: Self.keys("limits")) {
            if let value = fields["max_event_bytes"], let n = size(value, key: "limits.max_event_bytes", in: 64...(64 << 20)) { limits.maxEventBytes = n }
            if let value = fields["max_file_bytes"], let n = size(value, key: "limits.max_file_bytes", in: 1024...(1 << 50)) { limits.maxFileBytes = n }
        }

        var endpoints: [Endpoint] = []
        if let node = top["endpoints"] {
            if case .sequence(let sequence) = node {
                if sequence.isEmpty { fail(node, "endpoints", "list at least one endpoint") }
                var seen: [String: Int] = [:]
                for (index, item) in sequence.enumerated() {
                    let key = "endpoints[\(index)]"
                    guard let endpoint = readEndpoint(item, key: key, defaults: delivery) else { continue }
                    if let first = seen[endpoint.name] {
                        fail(mapping(item)?["name"] ?? item, "\(key).name", "duplicate endpoint name '\(endpoint.name)' (also endpoints[\(first)]); names must be unique")
                    } else {
                        seen[endpoint.name] = index
                    }
                    endpoints.append(endpoint)
                }
            } else {
                fail(node, "endpoints", "expected a list of endpoints")
            }
        } else {
            fail(root, "endpoints", "missing; list at least one endpoint")
        }
        return Config(
            file: file,
            spoolDirectory: spoolDirectory,
            reportDirectory: reportDirectory,
            reportKeep: reportKeep,
            delivery: delivery,
            limits: limits,
            endpoints: endpoints,
            metricsTextfile: metricsTextfile
        )
    }

    /// Reads `metrics.textfile`: a `.prom` file (node_exporter's textfile collector reads no other name) whose folder is created on write.
    private mutating func readMetricsTextfile(_ node: Node, key: String) -> String? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        let resolved = path(text)
        let name = FileSystem.basename(of: resolved)
        guard !text.hasSuffix("/"), name.hasSuffix(".prom"), name.count > ".prom".count else {
            fail(node, key, "'\(text)' must name a file ending in .prom, e.g. ./metrics/hookspool.prom; node_exporter's textfile collector reads only *.prom")
            return nil
        }
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder), isFolder.boolValue {
            fail(node, key, "\(resolved) is a folder; name a file in it, e.g. \(text)/hookspool.prom")
            return nil
        }
        return resolved
    }

    private mutating func readBackoff(_ node: Node, key: String) -> Backoff? {
        guard let fields = mapping(node, key: key, allowed: Self.keys("delivery.backoff")) else { return nil }
        var backoff = Backoff()
        if let value = fields["initial"], let d = duration(value, key: "\(key).initial", in: .milliseconds(1)...(.seconds(86_400))) { backoff.initial = d }
        if let value = fields["max"], let d = duration(value, key: "\(key).max", in: .milliseconds(1)...(.seconds(86_400))) { backoff.max = d }
        if backoff.max < backoff.initial {
            fail(fields["max"] ?? node, "\(key).max", "must be at least backoff.initial (\(ConfigValues.format(backoff.initial)))")
            return nil
        }
        return backoff
    }

    func syntaxIssue(_ error: any Error) -> ConfigIssue {
        if let yaml = error as? YamlError {
            switch yaml {
            case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _), .composer(let context, let problem, let mark, _):
                let detail = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                return ConfigIssue(file: file, line: mark.line, column: mark.column, message: "YAML syntax error: \(detail)")
            case .duplicatedKeysInMapping(let duplicates, let context):
                return ConfigIssue(file: file, line: context.mark.line, column: context.mark.column, message: "duplicate key \(duplicates.joined(separator: ", ")) in one mapping")
            case .reader(let problem, _, _, _):
                return ConfigIssue(file: file, message: "cannot read YAML: \(problem)")
            default:
                return ConfigIssue(file: file, message: "YAML error: \(yaml)")
            }
        }
        return ConfigIssue(file: file, message: "YAML error: \(error)")
    }
}
