import Foundation
import HookSpoolReceiver
import Testing
@testable import HookSpool

/// The metrics and the shipped alerts, checked by Prometheus' own `promtool` (Debian's `prometheus` package).
///
/// Without promtool the suite is skipped on a developer's machine; under `CI=true` it runs and fails.
@Suite("promtool", .enabled("needs promtool (apt-get install prometheus); CI=true requires it") { ReportTools.isCI || ReportTools.which("promtool") != nil })
struct PromtoolTests {
    static var promtool: String {
        get throws { try #require(ReportTools.which("promtool"), "promtool is required (CI=true): apt-get install prometheus") }
    }

    static let alertsFolder = ReportTools.packageRoot + "/examples/prometheus"

    @Test("promtool check metrics passes the textfile of real runs, lint included", .timeLimit(.minutes(2)))
    func checkMetrics() async throws {
        let ws = try TestWorkspace()
        try ws.drop("orders.ndjson", [#"{"id":"o1","type":"order.created"}"#, #"{"id":"o2","type":"invoice.sent"}"#, "not json"])
        try await LoopbackReceiver.run(handler: { MetricsTests.reply($0) }) { receiver in
            let yaml = testConfig(endpoints: MetricsTests.endpoints(port: receiver.port), maxAttempts: 2, retryFor: "1h", extra: "metrics:\n  textfile: ./m/hookspool.prom")
            _ = try await ws.run(yaml)
            try ws.drop("more.ndjson", [#"{"id":"o3","type":"user.signup"}"#])
            _ = try await ws.run(yaml)
        }
        let text = try String(contentsOfFile: ws.root + "/m/hookspool.prom", encoding: .utf8)
        #expect(text.contains("hookspool_deliveries_total{"), "the counters are in the file checked")
        let check = try await ChildProcess.run(try Self.promtool, ["check", "metrics"], stdin: Data(text.utf8), timeout: ReportTools.timeout)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.isEmpty && check.stderr.isEmpty, "no lint findings: \(check.stdout)\(check.stderr)")
    }

    @Test("the shipped alerts load, and each fires on its failure and stays quiet otherwise (promtool test rules)")
    func alertRules() async throws {
        let promtool = try Self.promtool
        let rules = try await ChildProcess.run(promtool, ["check", "rules", "alerts.yml"], in: Self.alertsFolder, timeout: ReportTools.timeout)
        #expect(rules.status == 0, "\(rules.stdout)\(rules.stderr)")
        let tests = try await ChildProcess.run(promtool, ["test", "rules", "alerts.test.yml"], in: Self.alertsFolder, timeout: ReportTools.timeout)
        #expect(tests.status == 0, "\(tests.stdout)\(tests.stderr)")
        #expect(tests.stdout.contains("SUCCESS"))

        // Every alert of alerts.yml has a test in which it fires.
        let alerts = try String(contentsOfFile: Self.alertsFolder + "/alerts.yml", encoding: .utf8)
            .split(separator: "\n").compactMap { line -> String? in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return trimmed.hasPrefix("- alert: ") ? String(trimmed.dropFirst("- alert: ".count)) : nil
            }
        let testText = try String(contentsOfFile: Self.alertsFolder + "/alerts.test.yml", encoding: .utf8)
        #expect(alerts.count == 10)
        for alert in alerts {
            #expect(testText.contains("alertname: \(alert)\n        exp_alerts:\n          - exp_labels"), "\(alert) is never shown firing")
        }
    }
}
