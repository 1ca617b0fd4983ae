import Foundation

/// The Prometheus metrics of the latest run, written to `metrics.textfile` for node_exporter's textfile collector.
///
/// The file is replaced atomically after every real run (a temporary name in the same folder, then a rename), so
/// the collector never reads half of it. Every figure describes the latest run (`hookspool_last_run_*`), except
/// `hookspool_last_success_timestamp_seconds`, carried over from the previous file until a run exits 0, and the
/// spool backlog, measured after the run.
public struct MetricsTextfile: Sendable {
    /// What one run's metrics are made of.
    struct Input {
        var report: RunReport
        /// Attempt latencies per endpoint, in the order of `report.endpoints`.
        var latency: [LatencyHistogram]
        /// Nil when the spool could not be measured: the backlog families are left out.
        var backlog: SpoolBacklog?
        var exitStatus: ExitStatus
        /// When the run finished, in seconds since 1970.
        var finishedAt: Double
        /// When a run last exited 0 (this one included), in seconds since 1970; nil when none is known.
        var lastSuccess: Double?
    }

    /// The file (absolute path).
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Writes the metrics of a run, creating the folder if needed.
    ///
    /// - Throws: `FileSystemError` when the folder cannot be created or the file written.
    func write(_ input: Input) throws(FileSystemError) {
        try FileSystem.makeDirectory(FileSystem.parent(of: path))
        // 0644: node_exporter, another user, reads it; it holds no secret.
        try FileSystem.writeAtomically(Array(Self.render(input).utf8), to: path, mode: 0o644)
    }

    /// `hookspool_last_success_timestamp_seconds` as the file holds it now; nil when the file or the line is missing.
    func previousLastSuccess() -> Double? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let prefix = "\(Self.lastSuccessName) "
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") where line.hasPrefix(prefix) {
            if let value = Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 {
                return value
            }
        }
        return nil
    }

    static let lastSuccessName = "hookspool_last_success_timestamp_seconds"

    /// The exposition text for one run.
    static func render(_ input: Input) -> String {
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
            Sample(input.lastSuccess ?? 0)
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
        var disabled: [Sample] = []
        var attempts: [Sample] = []
        var latency: [PrometheusText.HistogramSeries] = []
        for (index, endpoint) in report.endpoints.enumerated() {
            let name: PrometheusText.Label = ("endpoint", endpoint.name)
            deliveries.append(Sample([name, ("outcome", "delivered")], Double(endpoint.delivered)))
            deliveries.append(Sample([name, ("outcome", "failed")], Double(endpoint.failed)))
            deliveries.append(Sample([name, ("outcome", "deferred")], Double(endpoint.deferred)))
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
        text.family("hookspool_endpoint_disabled", .gauge, help: "1 while an endpoint is disabled across runs (410 Gone, or failing for delivery.disable_after) until `hookspool endpoints enable`; else 0.", disabled)
        text.family("hookspool_last_run_attempts", .gauge, help: "HTTP attempts of the latest run by endpoint and code: the status, or timeout, connect_error, dns_error, ...", attempts)
        text.histogram("hookspool_last_run_attempt_duration_seconds", help: "Attempt latency of the latest run by endpoint, connect to last byte.", latency)

        if let backlog = input.backlog {
            text.family("hookspool_spool_backlog_files", .gauge, help: "Spool files waiting after the latest run, by folder.",
                backlog.folders.map { Sample([("folder", $0.name)], Double($0.files)) })
            text.family("hookspool_spool_backlog_bytes", .gauge, help: "Bytes of spool files waiting after the latest run, by folder.",
                backlog.folders.map { Sample([("folder", $0.name)], Double($0.bytes)) })
        }
        return text.text
    }
}
