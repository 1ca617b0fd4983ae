import Foundation
import HookSpoolReceiver
import InMemoryLogging
import Logging
import Synchronization
import Testing
@testable import HookSpool

/// `metrics.textfile`: Prometheus text format, checked with a real parser after real runs.
@Suite("Metrics textfile")
struct MetricsTests {
    static let parserTrait = Testing.ConditionTrait.enabled("python3 with prometheus_client: \(PrometheusParser.installHint)") {
        await PrometheusParser.shouldRun
    }

    /// Three endpoints on one receiver: `ok` answers 200 to everything, `gone` 410 to order.created (once: a 410
    /// disables it), `busy` 503 to invoices.
    static func endpoints(port: Int) -> String {
        [
            testEndpoint(name: "ok", port: port, path: "/ok", events: #"["*"]"#),
            testEndpoint(name: "gone", port: port, path: "/gone", events: #"["order.created"]"#),
            testEndpoint(name: "busy", port: port, path: "/busy", events: #"["invoice.*"]"#),
        ].joined(separator: "\n")
    }

    static func reply(_ request: ReceivedRequest) -> ReceiverReply {
        switch request.path {
        case "/gone": ReceiverReply(status: 410, body: "gone")
        case "/busy": ReceiverReply(status: 503, body: "busy")
        default: .ok
        }
    }

    @Test("after real runs the file parses and holds each run's figures; last success carries over", parserTrait, .timeLimit(.minutes(2)))
    func realRuns() async throws {
        let ws = try TestWorkspace()
        let metricsPath = ws.root + "/metrics/hookspool.prom"
        try ws.drop("orders.ndjson", [#"{"id":"o1","type":"order.created"}"#, #"{"id":"o2","type":"order.paid"}"#, "not json"])
        try ws.drop("invoices.ndjson", [#"{"id":"i1","type":"invoice.sent"}"#])
        let invoicesBytes = "{\"id\":\"i1\",\"type\":\"invoice.sent\"}\n".utf8.count
        // Handed over two hours ago: the deferred file keeps that time, and its age counts from it.
        let handedOver = Int64(Date().timeIntervalSince1970) - 7200
        try FileSystem.setModificationTime(ws.spool + "/incoming/invoices.ndjson", seconds: handedOver)
        // A producer's file still being written, and a name runs ignore: neither is backlog.
        try Data("{}".utf8).write(to: URL(fileURLWithPath: ws.spool + "/incoming/.late.ndjson.tmp"))

        try await LoopbackReceiver.run(handler: { Self.reply($0) }) { receiver in
            let extra = "metrics:\n  textfile: ./metrics/hookspool.prom"
            let before = Date().timeIntervalSince1970
            let first = try await ws.run(testConfig(endpoints: Self.endpoints(port: receiver.port), maxAttempts: 2, retryFor: "1h", extra: extra))
            #expect(first.exitStatus == .failures)

            let parsed = try await PrometheusParser.parse(try String(contentsOfFile: metricsPath, encoding: .utf8))
            for family in parsed.families {
                #expect(family.type != "unknown", "\(family.name) has no # TYPE line")
                #expect(!family.help.isEmpty, "\(family.name) has no # HELP line")
                #expect(family.name.hasPrefix("hookspool_"))
            }
            #expect(parsed.value("hookspool_last_run_exit_code") == 1)
            #expect(parsed.value("hookspool_last_success_timestamp_seconds") == 0, "no run has exited 0 yet")
            let stamp = try #require(parsed.value("hookspool_last_run_timestamp_seconds"))
            #expect(stamp >= before.rounded(.down) && stamp <= Date().timeIntervalSince1970 + 1)
            let duration = try #require(parsed.value("hookspool_last_run_duration_seconds"))
            #expect(duration == Double(first.report.durationMs) / 1000)

            #expect(parsed.value("hookspool_last_run_deliveries", ["endpoint": "ok", "outcome": "delivered"]) == 3)
            #expect(parsed.value("hookspool_last_run_deliveries", ["endpoint": "gone", "outcome": "failed"]) == 1)
            #expect(parsed.value("hookspool_last_run_deliveries", ["endpoint": "busy", "outcome": "deferred"]) == 1)
            #expect(parsed.value("hookspool_last_run_deliveries", ["endpoint": "busy", "outcome": "delivered"]) == 0)
            #expect(parsed.value("hookspool_endpoint_disabled", ["endpoint": "gone"]) == 1, "a 410 disables the endpoint")
            #expect(parsed.value("hookspool_endpoint_disabled", ["endpoint": "ok"]) == 0)
            #expect(parsed.value("hookspool_last_run_attempts", ["endpoint": "ok", "code": "200"]) == 3)
            #expect(parsed.value("hookspool_last_run_attempts", ["endpoint": "gone", "code": "410"]) == 1)
            #expect(parsed.value("hookspool_last_run_attempts", ["endpoint": "busy", "code": "503"]) == 2)
            #expect(parsed.value("hookspool_last_run_files", ["outcome": "failed"]) == 1)
            #expect(parsed.value("hookspool_last_run_files", ["outcome": "deferred"]) == 1)
            #expect(parsed.value("hookspool_last_run_files", ["outcome": "done"]) == 0)
            #expect(parsed.value("hookspool_last_run_events") == 3)
            #expect(parsed.value("hookspool_last_run_invalid_lines") == 1)

            // The histogram: one series per endpoint, cumulative buckets ending at +Inf == count.
            let histogram = try #require(parsed.family("hookspool_last_run_attempt_duration_seconds"))
            #expect(histogram.type == "histogram")
            #expect(parsed.value("hookspool_last_run_attempt_duration_seconds_count", ["endpoint": "ok"]) == 3)
            #expect(parsed.value("hookspool_last_run_attempt_duration_seconds_bucket", ["endpoint": "busy", "le": "+Inf"]) == 2)
            let okBuckets = parsed.samples("hookspool_last_run_attempt_duration_seconds_bucket").filter { $0.labels["endpoint"] == "ok" }
            #expect(okBuckets.count == LatencyHistogram.metricBounds.count + 1)
            #expect(zip(okBuckets, okBuckets.dropFirst()).allSatisfy { $0.value <= $1.value }, "buckets are cumulative")
            let okSum = try #require(parsed.value("hookspool_last_run_attempt_duration_seconds_sum", ["endpoint": "ok"]))
            #expect(okSum > 0 && okSum < 15)

            // What waits after the run: the deferred file, nothing ready in incoming/.
            #expect(parsed.value("hookspool_spool_backlog_files", ["folder": "deferred"]) == 1)
            #expect(parsed.value("hookspool_spool_backlog_bytes", ["folder": "deferred"]) == Double(invoicesBytes))
            #expect(parsed.value("hookspool_spool_backlog_files", ["folder": "incoming"]) == 0)
            #expect(parsed.value("hookspool_spool_backlog_files", ["folder": "processing"]) == 0)
            #expect(parsed.value("hookspool_spool_backlog_files", ["folder": "failed"]) == 1, "orders.ndjson, not its sidecar")
            let deferredAge = try #require(parsed.value("hookspool_spool_oldest_age_seconds", ["folder": "deferred"]))
            #expect(deferredAge >= 7200 && deferredAge < 7200 + 120)
            #expect(parsed.value("hookspool_spool_oldest_age_seconds", ["folder": "incoming"]) == 0, "none waits")
            let failedAge = try #require(parsed.value("hookspool_spool_oldest_age_seconds", ["folder": "failed"]))
            #expect(failedAge >= 0 && failedAge < 120 && failedAge == failedAge.rounded(), "whole seconds: \(failedAge)")

            // The counters start with the first run's figures, every endpoint's series from 0.
            // prometheus_client names a counter's family without `_total`.
            #expect(parsed.family("hookspool_deliveries")?.type == "counter")
            #expect(parsed.family("hookspool_attempts")?.type == "counter")
            #expect(parsed.value("hookspool_deliveries_total", ["endpoint": "ok", "outcome": "delivered"]) == 3)
            #expect(parsed.value("hookspool_deliveries_total", ["endpoint": "gone", "outcome": "failed"]) == 1)
            #expect(parsed.value("hookspool_deliveries_total", ["endpoint": "busy", "outcome": "deferred"]) == 1)
            #expect(parsed.value("hookspool_deliveries_total", ["endpoint": "busy", "outcome": "failed"]) == 0)
            #expect(parsed.value("hookspool_attempts_total", ["endpoint": "busy", "code": "503"]) == 2)

            // A clean run (the deferred file is not due yet): exit 0 sets the last success.
            try ws.drop("clean.ndjson", [#"{"id":"c1","type":"user.signup"}"#])
            let second = try await ws.run(testConfig(endpoints: Self.endpoints(port: receiver.port), maxAttempts: 2, retryFor: "1h", extra: extra))
            #expect(second.exitStatus == .ok)
            let clean = try await PrometheusParser.parse(try String(contentsOfFile: metricsPath, encoding: .utf8))
            let success = try #require(clean.value("hookspool_last_success_timestamp_seconds"))
            #expect(success == clean.value("hookspool_last_run_timestamp_seconds"))
            #expect(clean.value("hookspool_last_run_exit_code") == 0)
            #expect(clean.value("hookspool_last_run_deliveries", ["endpoint": "ok", "outcome": "delivered"]) == 1)
            // The permanent failure of the first run stays in the counter, though this run had none.
            #expect(clean.value("hookspool_last_run_deliveries", ["endpoint": "gone", "outcome": "failed"]) == 0)
            #expect(clean.value("hookspool_deliveries_total", ["endpoint": "gone", "outcome": "failed"]) == 1)
            #expect(clean.value("hookspool_deliveries_total", ["endpoint": "ok", "outcome": "delivered"]) == 4)
            #expect(clean.value("hookspool_attempts_total", ["endpoint": "ok", "code": "200"]) == 4)
            #expect(clean.value("hookspool_attempts_total", ["endpoint": "busy", "code": "503"]) == 2, "a code of an earlier run stays")
            #expect(clean.value("hookspool_spool_backlog_files", ["folder": "failed"]) == 1, "failed/ waits until replayed")

            // A failing run (an invalid line) keeps the previous last success.
            try ws.drop("bad.ndjson", [#"{"id":"b1","type":"user.signup"}"#, "{broken"])
            let third = try await ws.run(testConfig(endpoints: Self.endpoints(port: receiver.port), maxAttempts: 2, retryFor: "1h", extra: extra))
            #expect(third.exitStatus == .failures)
            let after = try await PrometheusParser.parse(try String(contentsOfFile: metricsPath, encoding: .utf8))
            #expect(after.value("hookspool_last_success_timestamp_seconds") == success)
            #expect(after.value("hookspool_last_run_exit_code") == 1)
        }
        // Written by rename: no temporary file is left beside it.
        let left = try FileManager.default.contentsOfDirectory(atPath: ws.root + "/metrics")
        #expect(left.sorted() == [".hookspool.prom.lock", "hookspool.prom"])
    }

    @Test("label values and help text are escaped so the parser reads them back exactly", parserTrait)
    func escaping() async throws {
        let odd = "we\"ird\\name\nnext line"
        var report = RunReport(
            runID: "r", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z", durationMs: 1250, dryRun: false,
            totals: RunReport.Totals(), endpoints: [], files: [], failures: [], failuresOmitted: 0, errors: []
        )
        var summary = RunReport.EndpointSummary(name: odd, url: "https://x.example/", latencyMs: RunReport.Latency())
        summary.delivered = 2
        summary.statusCodes = ["200": 2]
        report.endpoints = [summary]
        var histogram = LatencyHistogram()
        histogram.record(.milliseconds(3))
        histogram.record(.milliseconds(30))
        let text = MetricsTextfile.render(MetricsTextfile.Input(
            report: report, latency: [histogram], backlog: nil, exitStatus: .ok, finishedAt: 1_767_225_601.5
        ), carried: MetricsTextfile.Carried(attempts: [MetricsTextfile.CounterKey(endpoint: odd, value: "503"): 7]))
        let parsed = try await PrometheusParser.parse(text)
        #expect(parsed.value("hookspool_last_run_deliveries", ["endpoint": odd, "outcome": "delivered"]) == 2)
        #expect(parsed.value("hookspool_last_run_attempt_duration_seconds_bucket", ["endpoint": odd, "le": "0.005"]) == 1)
        #expect(parsed.value("hookspool_last_run_attempt_duration_seconds_bucket", ["endpoint": odd, "le": "0.05"]) == 2)
        #expect(parsed.value("hookspool_last_run_duration_seconds") == 1.25)
        #expect(parsed.value("hookspool_last_run_timestamp_seconds") == 1_767_225_601.5)
        #expect(parsed.value("hookspool_last_success_timestamp_seconds") == 1_767_225_601.5)
        #expect(parsed.family("hookspool_spool_backlog_files") == nil, "an unmeasured backlog is left out, not written as 0")
        #expect(parsed.value("hookspool_attempts_total", ["endpoint": odd, "code": "503"]) == 7)
        // What the next run reads back is what this one wrote.
        let carried = MetricsTextfile.carried(from: text)
        #expect(carried.attempts == [
            MetricsTextfile.CounterKey(endpoint: odd, value: "503"): 7, MetricsTextfile.CounterKey(endpoint: odd, value: "200"): 2,
        ])
        #expect(carried.deliveries[MetricsTextfile.CounterKey(endpoint: odd, value: "delivered")] == 2)
        #expect(carried.lastSuccess == 1_767_225_601.5)
    }

    @Test("escaping rules of the text format")
    func escapeRules() {
        #expect(PrometheusText.escapeLabelValue("a\"b\\c\nd") == #"a\"b\\c\nd"#)
        #expect(PrometheusText.escapeHelp("a\\b\nc \"q\"") == #"a\\b\nc "q""#)
        #expect(PrometheusText.format(3) == "3")
        #expect(PrometheusText.format(0.005) == "0.005")
        #expect(PrometheusText.format(.infinity) == "+Inf")
    }

    @Test("a metrics file that cannot be written is an I/O error (exit 74), logged; a dry run writes none")
    func unwritable() async throws {
        let ws = try TestWorkspace()
        // A regular file where the metrics folder should be.
        try Data("x".utf8).write(to: URL(fileURLWithPath: ws.root + "/blocker"))
        try ws.drop("a.ndjson", [#"{"type":"x"}"#])
        let handler = InMemoryLogHandler()
        let logger = Logger(label: "hookspool.test", factory: { _ in handler })
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let config = try ws.config(testConfig(endpoints: testEndpoint(port: receiver.port), extra: "metrics:\n  textfile: ./blocker/hookspool.prom"))
            let root = URL(fileURLWithPath: ws.root).standardizedFileURL.path
            #expect(config.metricsTextfile == root + "/blocker/hookspool.prom", "relative to the config's folder")
            let outcome = await BatchRun(config: config, logger: logger).run()
            #expect(outcome.exitStatus == .ioError)
            #expect(outcome.report.totals.delivered == 1)
            let entries = handler.entries
            #expect(entries.contains { $0.level == .error && $0.message.description == "cannot write the metrics textfile" })
            let summary = try #require(entries.first { $0.message.description == "run finished" })
            #expect(summary.level == .notice)
            #expect(summary.metadata["exit"]?.description == "74")

            let dry = try ws.config(testConfig(endpoints: testEndpoint(port: receiver.port), extra: "metrics:\n  textfile: ./dry/hookspool.prom"))
            try ws.drop("b.ndjson", [#"{"type":"x"}"#])
            let dryOutcome = await BatchRun(config: dry, dryRun: true, logger: .quiet).run()
            #expect(dryOutcome.exitStatus == .ok)
            #expect(!FileManager.default.fileExists(atPath: ws.root + "/dry"))
        }
    }

    /// A report of one run in which endpoint `name` delivered `delivered` events with `code` answers.
    static func report(endpoint name: String, delivered: Int, code: String = "200") -> RunReport {
        var report = RunReport(
            runID: "r", startedAt: "2026-01-01T00:00:00Z", finishedAt: "2026-01-01T00:00:01Z", durationMs: 10, dryRun: false,
            totals: RunReport.Totals(), endpoints: [], files: [], failures: [], failuresOmitted: 0, errors: []
        )
        var summary = RunReport.EndpointSummary(name: name, url: "https://x.example/", latencyMs: RunReport.Latency())
        summary.delivered = delivered
        summary.statusCodes = [code: delivered]
        report.endpoints = [summary]
        return report
    }

    @Test("runs that overlap add up: the file is read, updated and replaced under a lock")
    func overlappingRuns() async throws {
        let ws = try TestWorkspace()
        let textfile = MetricsTextfile(path: ws.root + "/metrics/hookspool.prom")
        let runs = 40
        let failures = Mutex(0)
        // Real threads, each opening the lock on its own, as separate processes would.
        DispatchQueue.concurrentPerform(iterations: runs) { _ in
            let input = MetricsTextfile.Input(
                report: Self.report(endpoint: "orders", delivered: 1), latency: [], backlog: nil, exitStatus: .ok, finishedAt: 1_767_225_600
            )
            do throws(FileSystemError) {
                try textfile.update(input)
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        let carried = MetricsTextfile.carried(from: try String(contentsOfFile: textfile.path, encoding: .utf8))
        #expect(carried.deliveries[MetricsTextfile.CounterKey(endpoint: "orders", value: "delivered")] == Double(runs))
        #expect(carried.attempts[MetricsTextfile.CounterKey(endpoint: "orders", value: "200")] == Double(runs))
    }

    @Test("a previous file that cannot be read is an error, not a silent restart of the counters; a read-only lock file still locks")
    func unreadablePrevious() throws {
        let ws = try TestWorkspace()
        let textfile = MetricsTextfile(path: ws.root + "/metrics/hookspool.prom")
        let input = MetricsTextfile.Input(
            report: Self.report(endpoint: "orders", delivered: 1), latency: [], backlog: nil, exitStatus: .ok, finishedAt: 1_767_225_600
        )
        try textfile.update(input)
        // A lock file this user may only read (as one root left behind would be): flock works on it all the same.
        #expect(chmod(textfile.lockPath, 0o444) == 0)
        try textfile.update(input)
        #expect(chmod(textfile.path, 0) == 0)
        #expect(throws: FileSystemError.self) { try textfile.update(input) }
        #expect(chmod(textfile.path, 0o644) == 0)
        let carried = MetricsTextfile.carried(from: try String(contentsOfFile: textfile.path, encoding: .utf8))
        #expect(carried.deliveries[MetricsTextfile.CounterKey(endpoint: "orders", value: "delivered")] == 2, "untouched by the failed update")
    }

    @Test("a damaged file restarts only the series it damaged; an endpoint gone from the config drops out")
    func damagedFile() throws {
        let text = """
            # HELP hookspool_deliveries_total x
            hookspool_deliveries_total{endpoint="orders",outcome="delivered"} 12
            hookspool_deliveries_total{endpoint="orders",outcome="failed"} -3
            hookspool_deliveries_total{endpoint="orders",outcome="deferred"} NaN
            hookspool_deliveries_total{endpoint="orders",outcome="failed" 5
            hookspool_deliveries_total{endpoint="old",outcome="delivered"} 99
            hookspool_attempts_total{endpoint="orders",code="200"} 12 garbage
            hookspool_attempts_total{endpoint="orders"} 4
            \u{00}\u{FF}{"not":"metrics"}
            hookspool_last_success_timestamp_seconds +Inf
            """
        let carried = MetricsTextfile.carried(from: text)
        #expect(carried.deliveries == [
            MetricsTextfile.CounterKey(endpoint: "orders", value: "delivered"): 12, MetricsTextfile.CounterKey(endpoint: "old", value: "delivered"): 99,
        ])
        #expect(carried.attempts.isEmpty)
        #expect(carried.lastSuccess == nil)

        let next = MetricsTextfile.render(MetricsTextfile.Input(
            report: Self.report(endpoint: "orders", delivered: 2), latency: [], backlog: nil, exitStatus: .failures, finishedAt: 1_767_225_600
        ), carried: carried)
        let after = MetricsTextfile.carried(from: next)
        #expect(after.deliveries == [
            MetricsTextfile.CounterKey(endpoint: "orders", value: "delivered"): 14,
            MetricsTextfile.CounterKey(endpoint: "orders", value: "failed"): 0,
            MetricsTextfile.CounterKey(endpoint: "orders", value: "deferred"): 0,
        ])
        #expect(after.lastSuccess == nil, "no run has exited 0")
    }
}
