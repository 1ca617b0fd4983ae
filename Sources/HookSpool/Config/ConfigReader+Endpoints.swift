import Foundation
import Mustache
import WebhookSignature
import Yams

// Reads one endpoint of the config: its name, url, events, signature and secrets, headers and tls.
extension ConfigReader {
    mutating func readEndpoint(_ node: Node, key: String, defaults: DeliverySettings) -> Endpoint? {
        let allowed = Self.keys("endpoints[]")
        let issuesBefore = issues.count
        // The name, if readable, labels every key of this endpoint in messages.
        let nameHint = node.mapping?.first { $0.key.scalar?.string == "name" }?.value.scalar?.string
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

        var signing: SigningSchedule?
        if let secretNode = required(fields, node, displayKey, "secret") {
            if let secrets = readSecrets(secretNode, key: "\(displayKey).secret") {
                do {
                    let schedule = try SigningSchedule(scheme: scheme, secrets: secrets.map(\.secret), windows: secrets.map(\.window))
                    if schedule.valid(at: now).isEmpty {
                        let next = schedule.nextChange(after: now).flatMap { schedule.valid(at: $0).isEmpty ? nil : $0 }
                        fail(secretNode, "\(displayKey).secret", "no secret of the list is valid now (\(RFC3339.format(secondsSince1970: Int(clamping: now))))"
                            + (next.map { "; the next becomes valid at \(RFC3339.format(secondsSince1970: Int(clamping: $0)))" } ?? "; every window has ended"))
                    } else {
                        signing = schedule
                    }
                } catch {
                    fail(secretNode, "\(displayKey).secret", "\(error) (scheme \(scheme.rawValue))")
                }
            }
        }

        var contentType: String?
        if let typeNode = fields["content_type"], let text = string(typeNode, key: "\(displayKey).content_type", nonEmpty: true) {
            if fields["template"] == nil {
                fail(typeNode, "\(displayKey).content_type", "applies to a template's body only (without one, the event is sent as application/json); add template: or remove it")
            } else if Self.isMediaType(text) {
                contentType = text
            } else {
                fail(typeNode, "\(displayKey).content_type", "'\(text)' is not a media type, e.g. application/json or text/plain; charset=utf-8")
            }
        }
        var template: BodyTemplate?
        if let templateNode = fields["template"], let text = string(templateNode, key: "\(displayKey).template", nonEmpty: true) {
            template = readTemplate(templateNode, path: text, key: "\(displayKey).template", contentType: contentType ?? "application/json")
        }

        var headers: [(name: String, value: String)] = []
        if let headersNode = fields["headers"] {
            headers = readHeaders(headersNode, key: "\(displayKey).headers")
        }

        let concurrency = fields["concurrency"].flatMap { integer($0, key: "\(displayKey).concurrency", in: 1...10_000) }
        let rateLimit = fields["rate_limit"].flatMap { self.rateLimit($0, key: "\(displayKey).rate_limit") }
        var ordering = Endpoint.Ordering.none
        if let orderingNode = fields["ordering"], let text = string(orderingNode, key: "\(displayKey).ordering", nonEmpty: true) {
            if let parsed = Endpoint.Ordering(rawValue: text) {
                ordering = parsed
            } else {
                fail(orderingNode, "\(displayKey).ordering", "unknown ordering '\(text)'; use fifo (one at a time, in spool order) or none")
            }
        }
        if ordering == .fifo, let concurrency, concurrency > 1, let concurrencyNode = fields["concurrency"] {
            fail(concurrencyNode, "\(displayKey).concurrency", "ordering: fifo sends one delivery at a time; remove concurrency or set it to 1")
        }
        let timeout = fields["timeout"].flatMap { duration($0, key: "\(displayKey).timeout", in: .milliseconds(1)...(.seconds(3600))) }
        let maxAttempts = fields["max_attempts"].flatMap { integer($0, key: "\(displayKey).max_attempts", in: 1...100) }
        let tls = fields["tls"].flatMap { readTLS($0, key: "\(displayKey).tls") }
        if tls != nil, let url, url.scheme != "https", let tlsNode = fields["tls"] {
            fail(tlsNode, "\(displayKey).tls", "applies to https:// URLs only; this endpoint's url is \(url.scheme)://")
        }

        let ownProxy = fields["proxy"].flatMap { self.proxy($0, key: "\(displayKey).proxy") }

        guard issues.count == issuesBefore, let name, let url, let signing else { return nil }
        var inFlight = defaults.concurrency
        if ordering == .fifo {
            inFlight = 1
        } else if let concurrency {
            inFlight = concurrency
        }
        // Its own proxy (or none), else the default unless no_proxy matches it.
        var egress: EgressProxy? = defaults.proxy
        if let ownProxy {
            egress = ownProxy
        } else if defaults.noProxy.contains(where: { rule in rule.matches(url) }) {
            egress = nil
        }
        return Endpoint(
            name: name,
            url: url,
            events: events,
            signing: signing,
            template: template,
            headers: headers,
            concurrency: inFlight,
            rateLimit: rateLimit ?? defaults.rateLimit,
            ordering: ordering,
            timeout: timeout ?? defaults.timeout,
            maxAttempts: maxAttempts ?? defaults.maxAttempts,
            backoff: defaults.backoff,
            enabled: enabled,
            allowPrivate: allowPrivate,
            tls: tls,
            proxy: egress
        )
    }

    /// Reads `url:`, written inline or as `env:NAME` / `file:PATH` (resolved as secrets are), and checks it.
    ///
    /// A URL given by reference is a secret: messages about it say where it came from, never its text or host.
    private mutating func readURL(_ node: Node, text: String, key: String, allowHTTP: Bool, allowPrivate: Bool) -> EndpointURL? {
        let isReference = SecretReference.isReference(text)
        guard let resolved = resolveReference(node, text, noun: "URL", key: key) else { return nil }
        // Said first when the URL came by reference, which the message then names instead of the URL's text.
        let source = isReference ? "the URL from \(text): " : ""
        do {
            let parsed = try EndpointURL(parsing: resolved)
            let literal = parsed.literalAddress
            if parsed.scheme == "http" && !allowHTTP {
                fail(node, key, source + "http:// is refused: use https://, or set allow_http: true on this endpoint (tests and local receivers only)")
            } else if let address = literal, let category = address.nonGlobalCategory, !allowPrivate {
                let what = isReference ? "its host" : "\(address)"
                fail(node, key, source + "\(what) is not a public address (\(category.rawValue)); set allow_private: true on this endpoint to allow it")
            } else if literal == nil, Self.isLocalhostName(parsed.host), !allowPrivate {
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
        guard let fields = mapping(node, key: key, allowed: Self.keys("endpoints[].tls")) else { return nil }
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
    /// One secret, a list of them, or list entries written as mappings with a rotation window:
    /// `{value: env:OLD, not_before: 2026-12-01T00:00:00Z, not_after: 2027-01-01T00:00:00Z}`.
    private mutating func readSecrets(_ node: Node, key: String) -> [(secret: String, window: SigningSchedule.Window)]? {
        var items: [(Node, String)] = []
        if case .sequence(let sequence) = node {
            if sequence.isEmpty {
                fail(node, key, "list at least one secret")
                return nil
            }
            for (index, item) in sequence.enumerated() {
                items.append((item, "\(key)[\(index)]"))
            }
        } else {
            items.append((node, key))
        }
        var secrets: [(secret: String, window: SigningSchedule.Window)] = []
        for (item, itemKey) in items {
            var valueNode = item
            var window = SigningSchedule.Window()
            if case .mapping = item {
                guard case .sequence = node else {
                    fail(item, itemKey, "a secret with not_before/not_after is an entry of a list; write secret: [{value: …, not_after: …}]")
                    return nil
                }
                // Unknown keys are not named: an unquoted `- secret: text` is a mapping whose key is the secret.
                guard let fields = mapping(item), Set(fields.keys).isSubset(of: Self.keys("endpoints[].secret[]")) else {
                    fail(item, itemKey, "a secret list entry is a secret, or a mapping of value, not_before and not_after; this one has other keys (not shown: one may be a secret)")
                    return nil
                }
                guard let value = required(fields, item, itemKey, "value") else { return nil }
                valueNode = value
                for (name, keyPath) in [("not_before", \SigningSchedule.Window.notBefore), ("not_after", \SigningSchedule.Window.notAfter)] {
                    guard let timeNode = fields[name] else { continue }
                    guard let text = string(timeNode, key: "\(itemKey).\(name)", nonEmpty: true) else { return nil }
                    guard let millis = RFC3339.milliseconds(text) else {
                        fail(timeNode, "\(itemKey).\(name)", "'\(text)' is not an RFC 3339 date-time (e.g. 2027-01-31T00:00:00Z)")
                        return nil
                    }
                    window[keyPath: keyPath] = millis / 1000
                }
                if let notBefore = window.notBefore, let notAfter = window.notAfter, notBefore > notAfter, let after = fields["not_after"] {
                    fail(after, "\(itemKey).not_after", "is before not_before: this secret would never sign")
                    return nil
                }
            }
            guard let text = string(valueNode, key: itemKey, nonEmpty: true) else { return nil }
            switch SecretReference.resolve(text, baseDirectory: baseDirectory, environment: environment) {
            case .success(let secret):
                secrets.append((secret, window))
            case .failure(let problem):
                fail(valueNode, itemKey, problem.description)
                return nil
            }
        }
        return secrets
    }

    /// Reads and parses `template:` (relative to the config's folder); a problem is a config
    /// error, one in the template naming the template's own line and column.
    private mutating func readTemplate(_ node: Node, path: String, key: String, contentType: String) -> BodyTemplate? {
        let full = path.hasPrefix("/") ? path : "\(baseDirectory)/\(path)"
        let bytes: [UInt8]
        do {
            guard let read = try FileSystem.readAll(full, maxBytes: Self.maxTemplateBytes) else {
                fail(node, key, "cannot read \(full): no such file")
                return nil
            }
            bytes = read
        } catch {
            fail(node, key, "cannot read \(full): \(error.code == EFBIG ? "larger than 1 MiB" : "\(error)")")
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            fail(node, key, "\(full) is not UTF-8 text")
            return nil
        }
        do {
            return try BodyTemplate(path: path, text: text, contentType: contentType)
        } catch let error as MustacheTemplate.ParserError {
            let column = error.context.lineNumber == 1 && BodyTemplate.escaping(for: contentType) != .html ? nil : error.context.columnNumber
            issues.append(ConfigIssue(file: full, line: error.context.lineNumber, column: column, key: key, message: "bad template: \(error.error)"))
        } catch {
            fail(node, key, "bad template \(full): \(error)")
        }
        return nil
    }

    private static let maxTemplateBytes = 1 << 20

    /// `type/subtype`, optionally with `; parameters`, in printable ASCII (never a line break).
    private static func isMediaType(_ text: String) -> Bool {
        let media = text.split(separator: ";", maxSplits: 1).first ?? ""
        let parts = media.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
        let token = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.allSatisfy(token.contains) }
            && text.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F }
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

    static func isLocalhostName(_ host: String) -> Bool {
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        return name == "localhost" || name.hasSuffix(".localhost")
    }
}
