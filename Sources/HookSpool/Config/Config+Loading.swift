import Foundation
import WebhookSignature
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
            root = try Yams.compose(yaml: yaml)
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

/// Walks the YAML node tree, building the config and collecting every mistake with its place.
struct ConfigReader {
    let file: String
    let baseDirectory: String
    let environment: [String: String]
    var issues: [ConfigIssue] = []

    /// Keys that later versions own; named so the message can say so.
    private static let notYetSupported: Set<String> = []

    init(file: String, baseDirectory: String, environment: [String: String]) {
        self.file = file
        self.baseDirectory = baseDirectory
        self.environment = environment
    }

    mutating func readConfig(_ root: Node) -> Config? {
        guard let top = mapping(root, key: "", allowed: ["spool", "report", "delivery", "limits", "metrics", "endpoints"]) else {
            return nil
        }
        var spoolDirectory = path("./spool")
        var reportDirectory = path("./reports")
        var reportKeep = Config.defaultReportKeep
        var delivery = DeliverySettings()
        var limits = Limits()

        if let spool = top["spool"], let fields = mapping(spool, key: "spool", allowed: ["dir"]) {
            if let dir = fields["dir"], let value = string(dir, key: "spool.dir", nonEmpty: true) { spoolDirectory = path(value) }
        }
        if let report = top["report"], let fields = mapping(report, key: "report", allowed: ["dir", "keep"]) {
            if let dir = fields["dir"], let value = string(dir, key: "report.dir", nonEmpty: true) { reportDirectory = path(value) }
            if let value = fields["keep"], let n = integer(value, key: "report.keep", in: 1...1_000_000) { reportKeep = n }
        }
        if let node = top["delivery"],
            let fields = mapping(node, key: "delivery", allowed: ["concurrency", "timeout", "max_attempts", "backoff", "retry_for", "retry_schedule", "disable_after"])
        {
            if let value = fields["concurrency"], let n = integer(value, key: "delivery.concurrency", in: 1...10_000) { delivery.concurrency = n }
            if let value = fields["timeout"], let d = duration(value, key: "delivery.timeout", in: .milliseconds(1)...(.seconds(3600))) { delivery.timeout = d }
            if let value = fields["max_attempts"], let n = integer(value, key: "delivery.max_attempts", in: 1...100) { delivery.maxAttempts = n }
            if let value = fields["backoff"], let backoff = readBackoff(value, key: "delivery.backoff") { delivery.backoff = backoff }
            if let value = fields["retry_for"], let d = duration(value, key: "delivery.retry_for", in: .zero...(.seconds(90 * 86_400))) { delivery.retryFor = d }
            if let value = fields["disable_after"], let d = duration(value, key: "delivery.disable_after", in: .seconds(1)...(.seconds(365 * 86_400))) { delivery.disableAfter = d }
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
        if let node = top["metrics"], let fields = mapping(node, key: "metrics", allowed: ["textfile"]) {
            if let value = required(fields, node, "metrics", "textfile") { metricsTextfile = readMetricsTextfile(value, key: "metrics.textfile") }
        }
        if let node = top["limits"], let fields = mapping(node, key: "limits", allowed: ["max_event_bytes", "max_file_bytes"]) {
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
        guard let fields = mapping(node, key: key, allowed: ["initial", "max"]) else { return nil }
        var backoff = Backoff()
        if let value = fields["initial"], let d = duration(value, key: "\(key).initial", in: .milliseconds(1)...(.seconds(86_400))) { backoff.initial = d }
        if let value = fields["max"], let d = duration(value, key: "\(key).max", in: .milliseconds(1)...(.seconds(86_400))) { backoff.max = d }
        if backoff.max < backoff.initial {
            fail(fields["max"] ?? node, "\(key).max", "must be at least backoff.initial (\(ConfigValues.format(backoff.initial)))")
            return nil
        }
        return backoff
    }

    private mutating func readEndpoint(_ node: Node, key: String, defaults: DeliverySettings) -> Endpoint? {
        let allowed: Set<String> = [
            "name", "url", "events", "secret", "signature", "headers", "concurrency", "timeout",
            "max_attempts", "enabled", "allow_http", "allow_private", "tls",
        ]
        let issuesBefore = issues.count
        // The name, if readable, labels every key of this endpoint in messages.
        let nameHint = mapping(node)?["name"]?.scalar?.string
        let displayKey = nameHint.map { "\(key) (\($0))" } ?? key
        guard let fields = mapping(node, key: displayKey, allowed: allowed) else { return nil }

        let name = required(fields, node, key, "name").flatMap { string($0, key: "\(key).name", nonEmpty: true) }
        if let name, let nameNode = fields["name"],
            !name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") })
        {
            fail(nameNode, "\(key).name", "'\(name)' may use only letters, digits, '-' and '_'")
        }

        let allowHTTP = fields["allow_http"].flatMap { bool($0, key: "\(displayKey).allow_http") } ?? false
        let allowPrivate = fields["allow_private"].flatMap { bool($0, key: "\(displayKey).allow_private") } ?? false
        let enabled = fields["enabled"].flatMap { bool($0, key: "\(displayKey).enabled") } ?? true

        var url: EndpointURL?
        if let urlNode = required(fields, node, displayKey, "url"), let text = string(urlNode, key: "\(displayKey).url", nonEmpty: true) {
            url = readURL(urlNode, text: text, key: "\(displayKey).url", allowHTTP: allowHTTP, allowPrivate: allowPrivate)
        }

        var events: [EventPattern] = []
        if let eventsNode = required(fields, node, displayKey, "events") {
            let items: [Node]
            if case .sequence(let sequence) = eventsNode {
                items = Array(sequence)
            } else {
                items = [eventsNode]
            }
            if items.isEmpty { fail(eventsNode, "\(displayKey).events", "list at least one event type or glob, e.g. [\"order.*\"] or [\"*\"]") }
            for (index, item) in items.enumerated() {
                guard let text = string(item, key: "\(displayKey).events[\(index)]", nonEmpty: false) else { continue }
                do {
                    events.append(try EventPattern(text))
                } catch {
                    fail(item, "\(displayKey).events[\(index)]", "bad glob '\(text)': \(error.description)")
                }
            }
        }

        var scheme = SignatureScheme.standard
        if let schemeNode = fields["signature"], let text = string(schemeNode, key: "\(displayKey).signature", nonEmpty: true) {
            if let parsed = SignatureScheme(rawValue: text) {
                scheme = parsed
            } else {
                fail(schemeNode, "\(displayKey).signature", "unknown scheme '\(text)'; use one of \(SignatureScheme.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }

        var signer: WebhookSigner?
        var secretCount = 0
        if let secretNode = required(fields, node, displayKey, "secret") {
            let secrets = readSecrets(secretNode, key: "\(displayKey).secret")
            if let secrets {
                secretCount = secrets.count
                do {
                    signer = try WebhookSigner(scheme: scheme, secrets: secrets)
                } catch {
                    fail(secretNode, "\(displayKey).secret", "\(error) (scheme \(scheme.rawValue))")
                }
            }
        }

        var headers: [(name: String, value: String)] = []
        if let headersNode = fields["headers"] {
            headers = readHeaders(headersNode, key: "\(displayKey).headers")
        }

        let concurrency = fields["concurrency"].flatMap { integer($0, key: "\(displayKey).concurrency", in: 1...10_000) }
        let timeout = fields["timeout"].flatMap { duration($0, key: "\(displayKey).timeout", in: .milliseconds(1)...(.seconds(3600))) }
        let maxAttempts = fields["max_attempts"].flatMap { integer($0, key: "\(displayKey).max_attempts", in: 1...100) }
        let tls = fields["tls"].flatMap { readTLS($0, key: "\(displayKey).tls") }
        if tls != nil, let url, url.scheme != "https", let tlsNode = fields["tls"] {
            fail(tlsNode, "\(displayKey).tls", "applies to https:// URLs only; this endpoint's url is \(url.scheme)://")
        }

        guard issues.count == issuesBefore, let name, let url, let signer else { return nil }
        return Endpoint(
            name: name,
            url: url,
            events: events,
            signer: signer,
            secretCount: secretCount,
            headers: headers,
            concurrency: concurrency ?? defaults.concurrency,
            timeout: timeout ?? defaults.timeout,
            maxAttempts: maxAttempts ?? defaults.maxAttempts,
            backoff: defaults.backoff,
            enabled: enabled,
            allowPrivate: allowPrivate,
            tls: tls
        )
    }

    /// Reads `url:`, written inline or as `env:NAME` / `file:PATH` (resolved as secrets are), and checks it.
    ///
    /// A URL given by reference is a secret: messages about it say where it came from, never its text or host.
    private mutating func readURL(_ node: Node, text: String, key: String, allowHTTP: Bool, allowPrivate: Bool) -> EndpointURL? {
        let isReference = SecretReference.isReference(text)
        let resolved: String
        switch SecretReference.resolve(text, noun: "URL", baseDirectory: baseDirectory, environment: environment) {
        case .success(let value):
            resolved = value
        case .failure(let problem):
            fail(node, key, problem.description)
            return nil
        }
        // Said first when the URL came by reference, which the message then names instead of the URL's text.
        let source = isReference ? "the URL from \(text): " : ""
        do {
            let parsed = try EndpointURL(parsing: resolved)
            if parsed.scheme == "http" && !allowHTTP {
                fail(node, key, source + "http:// is refused: use https://, or set allow_http: true on this endpoint (tests and local receivers only)")
            } else if let address = parsed.literalAddress, let category = address.nonGlobalCategory, !allowPrivate {
                let what = isReference ? "its host" : "\(address)"
                fail(node, key, source + "\(what) is not a public address (\(category.rawValue)); set allow_private: true on this endpoint to allow it")
            } else if parsed.literalAddress == nil, Self.isLocalhostName(parsed.host), !allowPrivate {
                let what = isReference ? "its host" : parsed.host
                fail(node, key, source + "\(what) is a loopback name; set allow_private: true on this endpoint to allow it")
            } else {
                return parsed
            }
        } catch {
            fail(node, key, source + error.description)
        }
        return nil
    }

    /// Reads `tls: {ca_file, cert_file, key_file}`, loading each file; cert_file and key_file come together.
    private mutating func readTLS(_ node: Node, key: String) -> EndpointTLS? {
        guard let fields = mapping(node, key: key, allowed: ["ca_file", "cert_file", "key_file"]) else { return nil }
        let issuesBefore = issues.count
        var files: [String: String] = [:]
        for name in ["ca_file", "cert_file", "key_file"] {
            if let value = fields[name], let text = string(value, key: "\(key).\(name)", nonEmpty: true) { files[name] = path(text) }
        }
        if fields.isEmpty {
            fail(node, key, "give ca_file (a private CA), or cert_file and key_file (mutual TLS), or both")
        }
        if (fields["cert_file"] == nil) != (fields["key_file"] == nil) {
            let missing = fields["cert_file"] == nil ? "cert_file" : "key_file"
            fail(node, "\(key).\(missing)", "missing; cert_file and key_file go together (mutual TLS)")
        }
        guard issues.count == issuesBefore else { return nil }
        do {
            return try EndpointTLS(caFile: files["ca_file"], certFile: files["cert_file"], keyFile: files["key_file"])
        } catch {
            fail(fields[error.key] ?? node, "\(key).\(error.key)", error.description)
            return nil
        }
    }

    /// Reads `secret:` (one value or a list, for rotation) and resolves `env:` and `file:` references.
    private mutating func readSecrets(_ node: Node, key: String) -> [String]? {
        var items: [(Node, String)] = []
        if case .sequence(let sequence) = node {
            if sequence.isEmpty {
                fail(node, key, "list at least one secret")
                return nil
            }
            for (index, item) in sequence.enumerated() {
                let itemKey = "\(key)[\(index)]"
                guard let text = string(item, key: itemKey, nonEmpty: true) else { return nil }
                items.append((item, itemKey))
                _ = text
            }
        } else {
            items.append((node, key))
        }
        var secrets: [String] = []
        for (item, itemKey) in items {
            guard let text = string(item, key: itemKey, nonEmpty: true) else { return nil }
            switch SecretReference.resolve(text, baseDirectory: baseDirectory, environment: environment) {
            case .success(let secret):
                secrets.append(secret)
            case .failure(let problem):
                fail(item, itemKey, problem.description)
                return nil
            }
        }
        return secrets
    }

    /// Header names hookspool sets itself; a config may not override them.
    private static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "host", "transfer-encoding", "connection", "user-agent",
        "webhook-id", "webhook-timestamp", "webhook-signature", "x-webhook-signature", "x-webhook-event",
        "x-webhook-id", "x-webhook-timestamp", "x-hub-signature-256", "stripe-signature",
    ]

    private mutating func readHeaders(_ node: Node, key: String) -> [(name: String, value: String)] {
        guard case .mapping(let mapping) = node else {
            fail(node, key, "expected a mapping of header names to values, e.g. {X-Tenant: acme}")
            return []
        }
        var headers: [(name: String, value: String)] = []
        let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        for (nameNode, valueNode) in mapping {
            guard let name = string(nameNode, key: key, nonEmpty: true) else { continue }
            let headerKey = "\(key).\(name)"
            guard name.allSatisfy({ tokenCharacters.contains($0) }) else {
                fail(nameNode, headerKey, "'\(name)' is not a valid header name")
                continue
            }
            guard !Self.reservedHeaders.contains(name.lowercased()) else {
                fail(nameNode, headerKey, "\(name) is set by hookspool and cannot be overridden")
                continue
            }
            guard let value = string(valueNode, key: headerKey, nonEmpty: false) else { continue }
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) else {
                fail(valueNode, headerKey, "a header value must not contain line breaks or control characters")
                continue
            }
            headers.append((name, value))
        }
        return headers
    }

    // MARK: - Typed readers

    private func mapping(_ node: Node) -> [String: Node]? {
        guard case .mapping(let mapping) = node else { return nil }
        var result: [String: Node] = [:]
        for (key, value) in mapping {
            if let name = key.scalar?.string { result[name] = value }
        }
        return result
    }

    /// The mapping's values by key, after refusing unknown keys; nil (with an issue) when `node` is not a mapping.
    private mutating func mapping(_ node: Node, key: String, allowed: Set<String>) -> [String: Node]? {
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
            let path = key.isEmpty ? name : "\(key).\(name)"
            if allowed.contains(name) {
                result[name] = value
            } else if Self.notYetSupported.contains(name) {
                fail(keyNode, path, "not supported by this version of hookspool; remove it")
            } else {
                let suggestion = allowed.sorted().first { Self.editDistance($0, name) <= 2 }
                fail(keyNode, path, "unknown key" + (suggestion.map { "; did you mean '\($0)'?" } ?? "; known keys here: \(allowed.sorted().joined(separator: ", "))"))
            }
        }
        return result
    }

    private mutating func required(_ fields: [String: Node], _ node: Node, _ key: String, _ name: String) -> Node? {
        if let value = fields[name] { return value }
        fail(node, "\(key).\(name)", "missing (required)")
        return nil
    }

    private mutating func string(_ node: Node, key: String, nonEmpty: Bool) -> String? {
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

    private mutating func integer(_ node: Node, key: String, in range: ClosedRange<Int>) -> Int? {
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

    private mutating func bool(_ node: Node, key: String) -> Bool? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default:
            fail(node, key, "'\(text)' is not a boolean; write true or false")
            return nil
        }
    }

    private mutating func duration(_ node: Node, key: String, in range: ClosedRange<Duration>) -> Duration? {
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

    private mutating func size(_ node: Node, key: String, in range: ClosedRange<Int>) -> Int? {
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

    private func path(_ text: String) -> String {
        let expanded = text.hasPrefix("~/") ? NSString(string: text).expandingTildeInPath : text
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        return URL(fileURLWithPath: baseDirectory).appendingPathComponent(expanded).standardizedFileURL.path
    }

    private mutating func fail(_ node: Node, _ key: String, _ message: String) {
        issues.append(ConfigIssue(file: file, line: node.mark?.line, column: node.mark?.column, key: key, message: message))
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

    static func isLocalhostName(_ host: String) -> Bool {
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        return name == "localhost" || name.hasSuffix(".localhost")
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
