import Foundation
import ArgumentParser
import HookSpool
import WebhookSignature

/// `hookspool check`: validate the config and show what it does.
///
/// Nothing secret is printed: URLs are shown redacted (credentials, query values and token-like path
/// segments masked; see `EndpointURL.redacted`), secrets only as a count, extra headers only by name.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate the config; print each endpoint and what it subscribes to.",
        discussion: "Exit codes: 0 the config is valid; 78 it is not (every mistake is listed with its file, line, column and key)."
    )

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: "Also show which endpoints would receive an event of this type.")
    var type: String?

    func run() async throws {
        let config = try configOptions.load()
        let format = CommandLineValues.format
        print("config \(config.file): ok")
        print("spool:    \(config.spoolDirectory)")
        print("reports:  \(config.reportDirectory) (keeps the newest \(config.reportKeep) runs)")
        print("metrics:  \(config.metricsTextfile ?? "none (metrics.textfile is not set)")")
        print("limits:   max_event_bytes \(Self.size(config.limits.maxEventBytes)), max_file_bytes \(Self.size(config.limits.maxFileBytes))")
        let d = config.delivery
        print("delivery: concurrency \(d.concurrency), timeout \(format(d.timeout)), max_attempts \(d.maxAttempts), backoff \(format(d.backoff.initial))…\(format(d.backoff.max))")
        print("          rate_limit \(d.rateLimit.map(Self.rate) ?? "none")")
        if let proxy = d.proxy {
            let exempt = d.noProxy.isEmpty ? "" : "; no_proxy \(d.noProxy.map(\.description).joined(separator: ", "))"
            print("          proxy \(proxy.redacted)\(exempt)")
        }
        print("          retry_for \(format(d.retryFor))\(d.retryFor == .zero ? " (no deferral: fail within the run)" : ""), retry_schedule \(d.retrySchedule.map(format).joined(separator: ", ")), disable_after \(format(d.disableAfter))")
        for endpoint in config.endpoints {
            print("")
            print("\(endpoint.name)\(endpoint.enabled ? "" : " (disabled: enabled: false)")")
            print("  url:        \(endpoint.url.redacted)")
            print("  signature:  \(endpoint.scheme.rawValue), \(endpoint.secretCount) secret\(endpoint.secretCount == 1 ? "" : "s")\(endpoint.secretCount > 1 ? " (rotation)" : "")\(Self.versions(endpoint.signing))")
            if endpoint.signing.isScheduled {
                for line in Self.rotation(endpoint.signing, now: Int64(Date().timeIntervalSince1970)) { print("              \(line)") }
            }
            if let template = endpoint.template {
                for line in Self.body(template) { print(line) }
            }
            print("  events:     \(endpoint.events.map(\.pattern).joined(separator: ", "))")
            print("  limits:     concurrency \(endpoint.concurrency), timeout \(format(endpoint.timeout)), max_attempts \(endpoint.maxAttempts), backoff \(format(endpoint.backoff.initial))…\(format(endpoint.backoff.max))")
            print("  rate limit: \(endpoint.rateLimit.map(Self.rate) ?? "none")")
            if endpoint.ordering == .fifo {
                print("  ordering:   fifo (one delivery at a time, in spool order; one left for later holds the rest; order kept in \(config.spoolDirectory)/fifo/\(endpoint.name).json)")
            }
            if let proxy = endpoint.proxy {
                let how = proxy.kind == .socks5 ? "SOCKS5" : endpoint.url.scheme == "https" ? "HTTP CONNECT" : "HTTP, absolute-form"
                print("  proxy:      \(proxy.redacted) (\(how); the proxy resolves \(endpoint.url.literalAddress == nil ? "the host" : "nothing"))")
            } else if d.proxy != nil {
                print("  proxy:      none (direct: no_proxy or proxy: none)")
            }
            var network: [String] = []
            if endpoint.url.scheme == "http" { network.append("http:// allowed (allow_http)") }
            if endpoint.allowPrivate { network.append("private addresses allowed (allow_private)") }
            if let tls = endpoint.tls {
                if tls.caFile != nil { network.append("private CA (tls.ca_file)") }
                if tls.certFile != nil { network.append("client certificate (tls.cert_file)") }
            }
            if !network.isEmpty {
                print("  network:    \(network.joined(separator: ", "))")
            }
            if !endpoint.headers.isEmpty {
                print("  headers:    \(endpoint.headers.map(\.name).joined(separator: ", "))")
            }
        }
        if let type {
            var router = Router(endpoints: config.endpoints)
            let names = router.route(type).map { config.endpoints[$0].name }
            print("")
            print("\(type) → \(names.isEmpty ? "no endpoint (unrouted)" : names.joined(separator: ", "))")
        }
    }

    /// `50/s (requests start at least 20.2ms apart; 429 and 503 slow it down)`.
    static func rate(_ limit: RateLimit) -> String {
        let parts = limit.interval.components
        let ms = Double(parts.seconds) * 1000 + Double(parts.attoseconds) / 1e15
        let spacing = ms < 10 ? String(format: "%.2fms", ms) : ms < 1000 ? String(format: "%.1fms", ms) : String(format: "%.2fs", ms / 1000)
        return "\(limit) (requests start at least \(spacing) apart, retries included; 429 and 503 slow it down)"
    }

    /// `1MiB`, `512KiB`, or bytes.
    static func size(_ bytes: Int) -> String {
        if bytes >= 1 << 20 && bytes % (1 << 20) == 0 { return "\(bytes >> 20)MiB" }
        if bytes >= 1 << 10 && bytes % (1 << 10) == 0 { return "\(bytes >> 10)KiB" }
        return "\(bytes)"
    }
}

extension CheckCommand {
    /// `: #1 v1a, #2 v1` for a `standard` list holding ed25519 keys; nothing otherwise.
    static func versions(_ signing: SigningSchedule) -> String {
        guard signing.versions.contains("v1a") else { return "" }
        return ": " + signing.versions.enumerated().map { "#\($0.offset + 1) \($0.element)" }.joined(separator: ", ")
    }

    /// Each secret's window, which sign now, and when that next changes.
    static func rotation(_ signing: SigningSchedule, now: Int64) -> [String] {
        func time(_ seconds: Int64) -> String { RFC3339.format(secondsSince1970: Int(clamping: seconds)) }
        func list(_ positions: [Int]) -> String {
            positions.isEmpty ? "none (deliveries wait: nothing is sent unsigned)" : positions.map { "#\($0 + 1)" }.joined(separator: ", ")
        }
        var lines = signing.windows.enumerated().map { index, window in
            let bounds = [window.notBefore.map { "from \(time($0))" }, window.notAfter.map { "until \(time($0))" }].compactMap { $0 }
            return "#\(index + 1): " + (bounds.isEmpty ? "always" : bounds.joined(separator: " "))
        }
        lines.append("signing now: \(list(signing.valid(at: now)))")
        if let next = signing.nextChange(after: now) {
            lines.append("next change: \(time(next)), then \(list(signing.valid(at: next)))")
        } else {
            lines.append("next change: none")
        }
        return lines
    }

    /// The template, its content type and escaping, and what it renders for a sample event.
    static func body(_ template: BodyTemplate) -> [String] {
        let escaping = switch template.escaping {
        case .json: "values escaped as JSON strings"
        case .html: "values HTML-escaped"
        case .none: "values not escaped"
        }
        let now = RFC3339.format(secondsSince1970: Int(Date().timeIntervalSince1970))
        let sample = #"{"id":"evt_sample","type":"sample.event","timestamp":"\#(now)","data":{"summary":"a \"quoted\" summary\nover two lines"}}"#
        var text = template.render(json: sample)
        while text.last?.isNewline == true { text.removeLast() }
        var verdict = ""
        if template.escaping == .json {
            verdict = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil ? " (valid JSON)" : " (NOT valid JSON: check the template)"
        }
        let shown = text.count > 400 ? String(text.prefix(400)) + "…" : text
        return [
            "  body:       template \(template.path), content_type \(template.contentType) (\(escaping))",
            "              for a sample event\(verdict): " + shown.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n                "),
        ]
    }
}
