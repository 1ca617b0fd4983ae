import Foundation

/// The Prometheus metrics of the runs, written to `metrics.textfile` for node_exporter's textfile collector.
///
/// The file is replaced atomically after every real run (a temporary name in the same folder, then a rename), so
/// the collector never reads half of it. The `hookspool_last_run_*` gauges describe the latest run; the counters
/// (`hookspool_deliveries_total`, `hookspool_attempts_total`) and `hookspool_last_success_timestamp_seconds` are
/// carried over from the previous file, which is read, updated and replaced under a lock so that overlapping runs
/// add up; the spool gauges are measured after the run.
public struct MetricsTextfile: Sendable {
    /// What one run's metrics are made of.
    struct Input {
        var report: RunReport
        /// Attempt latencies per endpoint, in the order of `report.endpoints`.
        var latency: [LatencyHistogram]
        /// Nil when the spool could not be measured (or is measured by `update`): the spool families are left out.
        var backlog: SpoolBacklog?
        var exitStatus: ExitStatus
        /// When the run finished, in seconds since 1970.
        var finishedAt: Double
    }

    /// One series of a counter carried across runs: the endpoint and the other label's value.
    struct CounterKey: Hashable {
        var endpoint: String
        var value: String
    }

    /// What a file carries over to the next run's.
    struct Carried: Equatable {
        /// When a run last exited 0, in seconds since 1970; nil when none is known.
        var lastSuccess: Double?
        /// `hookspool_deliveries_total` by endpoint and outcome.
        var deliveries: [CounterKey: Double] = [:]
        /// `hookspool_attempts_total` by endpoint and code.
        var attempts: [CounterKey: Double] = [:]
    }

    /// The file (absolute path).
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The lock that runs take around reading, updating and replacing the file: a hidden file beside it, which the
    /// collector (reading `*.prom` only) ignores.
    var lockPath: String {
        "\(FileSystem.parent(of: path))/.\(FileSystem.basename(of: path)).lock"
    }

    /// Adds a run to the file, creating the folder if needed: under the lock, reads what the file carries,
    /// measures the spool with `backlog`, adds this run and replaces the file.
    ///
    /// - Throws: `FileSystemError` when the folder cannot be created, the lock taken within 30 s, the previous file
    ///   read (anything but a missing file: the counters are not silently restarted), or the file written.
    func update(_ input: Input, backlog: () -> SpoolBacklog? = { nil }) throws(FileSystemError) {
        try FileSystem.makeDirectory(FileSystem.parent(of: path))
        // 0644 and a read-only fallback: a lock file another user made first (root running a run by hand) still locks.
        var lock = FileSystem.openCreating(lockPath, O_RDWR | O_CLOEXEC | O_NOFOLLOW, mode: 0o644)
        if lock < 0 && (errno == EACCES || errno == EPERM) {
            lock = open(lockPath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        }
        guard lock >= 0 else { throw .current("open", lockPath) }
        defer { FileSystem.closeDescriptor(lock) }
        let deadline = ContinuousClock.now + .seconds(30)
        while try !FileSystem.tryLock(lock, path: lockPath) {
            guard ContinuousClock.now < deadline else { throw FileSystemError(operation: "lock", path: lockPath, code: EWOULDBLOCK) }
            usleep(10_000)
        }
        let previous = try FileSystem.readAll(path, noFollow: true, maxBytes: 16 << 20)
        let carried = previous.map { Self.carried(from: String(decoding: $0, as: UTF8.self)) } ?? Carried()
        var input = input
        // Measured under the lock, so a run that waited for it does not write an older spool than the last one.
        if input.backlog == nil { input.backlog = backlog() }
        // 0644: node_exporter, another user, reads it; it holds no secret.
        try FileSystem.writeAtomically(Array(Self.render(input, carried: carried).utf8), to: path, mode: 0o644)
    }

    static let lastSuccessName = "hookspool_last_success_timestamp_seconds"
    static let deliveriesName = "hookspool_deliveries_total"
    static let attemptsName = "hookspool_attempts_total"

    /// What a file's text carries over: the last success and the counters' series (a line that does not parse, or
    /// a value that is negative or not finite, is left out, so that series starts again from 0).
    static func carried(from text: String) -> Carried {
        var carried = Carried()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let sample = parseSample(line), sample.value.isFinite, sample.value >= 0 else { continue }
            switch sample.name {
            case lastSuccessName where sample.labels.isEmpty && sample.value > 0:
                carried.lastSuccess = sample.value
            case deliveriesName:
                if let endpoint = sample.labels["endpoint"], let outcome = sample.labels["outcome"] {
                    carried.deliveries[CounterKey(endpoint: endpoint, value: outcome)] = sample.value
                }
            case attemptsName:
                if let endpoint = sample.labels["endpoint"], let code = sample.labels["code"] {
                    carried.attempts[CounterKey(endpoint: endpoint, value: code)] = sample.value
                }
            default:
                break
            }
        }
        return carried
    }

    /// One sample line as `PrometheusText` writes it: `name{label="value",…} number`; nil for anything else.
    static func parseSample(_ line: Substring) -> (name: String, labels: [String: String], value: Double)? {
        var rest = line[...]
        let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
        let name = String(rest[..<nameEnd])
        guard !name.isEmpty else { return nil }
        rest = rest[nameEnd...]
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                guard let equals = rest.firstIndex(of: "=") else { return nil }
                let label = String(rest[..<equals])
                rest = rest[rest.index(after: equals)...]
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                var value = ""
                var closed = false
                while let character = rest.first {
                    rest = rest.dropFirst()
                    if character == "\"" { closed = true; break }
                    if character == "\\" {
                        guard let escaped = rest.first else { return nil }
                        rest = rest.dropFirst()
                        value.append(escaped == "n" ? "\n" : escaped)
                    } else {
                        value.append(character)
                    }
                }
                guard closed else { return nil }
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " ", let value = Double(rest.dropFirst().trimmingCharacters(in: .whitespaces)) else { return nil }
        return (name, labels, value)
    }

    /// The exposition text after one run, adding it to what the previous file carried.
    ///
    /// The counters keep the series of the endpoints the run knows (an endpoint removed from the config drops out);
    /// every outcome's series is written from an endpoint's first run, at 0 when that run had none.
    static func render(_ input: Input, carried: Carried) -> String {
        typealias Sample = PrometheusText.Sample
        let report = input.report
        let totals = report.totals
        var text = PrometheusText()

        text.family("hookspool_build_info", .gauge, help: "The hookspool version that wrote these metrics; always 1.", [
            Sample([("version", HookSpoolVersion.current)], 1)
        ])
        text.family("hookspool_last_run_timestamp_seconds", .gauge, help: "When the latest run finished, in seconds since 1970.", [
            Sample(input.finishedAt)
        ])
        text.family(lastSuccessName, .gauge, help: "When a run last exited 0 (everything delivered or nothing to do), in seconds since 1970; 0 until one has.", [
            // Overlapping runs: the newest success wins, whichever run writes last.
            Sample((input.exitStatus == .ok ? max(carried.lastSuccess ?? 0, input.finishedAt) : carried.lastSuccess) ?? 0)
        ])
        text.family("hookspool_last_run_duration_seconds", .gauge, help: "How long the latest run took.", [
            Sample(Double(report.durationMs) / 1000)
        ])
        text.family("hookspool_last_run_exit_code", .gauge, help: "The latest run's exit code: 0 ok, 1 failures, 74 I/O error, 75 work left for later.", [
            Sample(Double(input.exitStatus.rawValue))
        ])
        text.family("hookspool_last_run_files", .gauge, help: "Spool files the latest run finished, by outcome.", [
            Sample([("outcome", "done")], Double(totals.filesDone)),
            Sample([("outcome", "failed")], Double(totals.filesFailed)),
            Sample([("outcome", "deferred")], Double(totals.filesDeferred)),
        ])
        text.family("hookspool_last_run_events", .gauge, help: "Events the latest run read.", [Sample(Double(totals.events))])
        text.family("hookspool_last_run_invalid_lines", .gauge, help: "Lines the latest run could not read as events.", [Sample(Double(totals.invalidLines))])
        text.family("hookspool_last_run_unrouted_events", .gauge, help: "Events of the latest run no endpoint subscribes to.", [Sample(Double(totals.unrouted))])

        var deliveries: [Sample] = []
        var deliveriesTotal: [Sample] = []
        var attemptsTotal: [Sample] = []
        var carriedCodes: [String: [String: Double]] = [:]
        for (key, value) in carried.attempts {
            carriedCodes[key.endpoint, default: [:]][key.value] = value
        }
        var disabled: [Sample] = []
        var attempts: [Sample] = []
        var latency: [PrometheusText.HistogramSeries] = []
        for (index, endpoint) in report.endpoints.enumerated() {
            let name: PrometheusText.Label = ("endpoint", endpoint.name)
            for (outcome, count) in [("delivered", endpoint.delivered), ("failed", endpoint.failed), ("deferred", endpoint.deferred)] {
                deliveries.append(Sample([name, ("outcome", outcome)], Double(count)))
                let before = carried.deliveries[CounterKey(endpoint: endpoint.name, value: outcome)] ?? 0
                deliveriesTotal.append(Sample([name, ("outcome", outcome)], before + Double(count)))
            }
            var codes = carriedCodes[endpoint.name] ?? [:]
            for (code, count) in endpoint.statusCodes {
                codes[code, default: 0] += Double(count)
            }
            for (code, total) in codes.sorted(by: { $0.key < $1.key }) {
                attemptsTotal.append(Sample([name, ("code", code)], total))
            }
            disabled.append(Sample([name], endpoint.disabled == nil ? 0 : 1))
            for (code, count) in endpoint.statusCodes.sorted(by: { $0.key < $1.key }) {
                attempts.append(Sample([name, ("code", code)], Double(count)))
            }
            let histogram = index < input.latency.count ? input.latency[index] : LatencyHistogram()
            latency.append(PrometheusText.HistogramSeries(
                labels: [name], buckets: histogram.cumulativeMetricCounts, sum: histogram.sumSeconds, count: histogram.count
            ))
        }
        text.family("hookspool_last_run_deliveries", .gauge, help: "Deliveries of the latest run by endpoint and outcome (failed: for good; deferred: left for a later run).", deliveries)
        text.family(deliveriesName, .counter, help: "Deliveries by endpoint and outcome, across runs (delivered; failed: for good; deferred: each time a run leaves one for a later run).", deliveriesTotal)
        text.family(attemptsName, .counter, help: "HTTP attempts by endpoint and code, across runs: the status, or timeout, connect_error, dns_error, ...", attemptsTotal)
        text.family("hookspool_endpoint_disabled", .gauge, help: "1 while an endpoint is disabled across runs (410 Gone, or failing for delivery.disable_after) until `hookspool endpoints enable`; else 0.", disabled)
        text.family("hookspool_last_run_attempts", .gauge, help: "HTTP attempts of the latest run by endpoint and code: the status, or timeout, connect_error, dns_error, ...", attempts)
        text.histogram("hookspool_last_run_attempt_duration_seconds", help: "Attempt latency of the latest run by endpoint, connect to last byte.", latency)

        if let backlog = input.backlog {
            text.family("hookspool_spool_backlog_files", .gauge, help: "Spool files waiting after the latest run, by folder (failed: until replayed or removed).",
                backlog.folders.map { Sample([("folder", $0.name)], Double($0.files)) })
            text.family("hookspool_spool_backlog_bytes", .gauge, help: "Bytes of spool files waiting after the latest run, by folder.",
                backlog.folders.map { Sample([("folder", $0.name)], Double($0.bytes)) })
            text.family("hookspool_spool_oldest_age_seconds", .gauge, help: "How long the oldest file waiting after the latest run has been in the spool, by folder, from its modification time; 0 when none waits.",
                backlog.folders.map { Sample([("folder", $0.name)], SpoolBacklog.age($0, now: input.finishedAt)) })
        }
        return text.text
    }
}
