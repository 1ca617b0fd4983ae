import Foundation
import Testing
@testable import HookSpool

/// The report folder: run files, `latest.*`, `runs.json`, `index.html`, pruning by `report.keep`.
@Suite("Report writer")
struct ReportWriterTests {
    /// A run id at minute `n` of an hour, so ids sort like their runs.
    static func runID(_ n: Int) -> String {
        "20261129T05\(String(format: "%02d", n / 60))\(String(format: "%02d", n % 60))Z-\(String(format: "%04x", n))"
    }

    static func report(_ n: Int, delivered: Int = 10, failed: Int = 0, dryRun: Bool = false) -> RunReport {
        HTMLReportTests.report(runID: runID(n), dryRun: dryRun, totals: HTMLReportTests.totals(delivered: dryRun ? 0 : delivered, failed: failed))
    }

    static func runFiles(_ ws: borrowing TestWorkspace) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: ws.reports)) ?? []).filter { $0.hasPrefix("run-") }.sorted()
    }

    static func index(_ ws: borrowing TestWorkspace) throws -> RunIndex {
        try #require(RunIndex.decode(Array(try Data(contentsOf: URL(fileURLWithPath: ws.reports + "/runs.json")))))
    }

    @Test("index.html lists every run newest first, with its figures and links")
    func indexNewestFirst() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        _ = try writer.write(Self.report(1, delivered: 5))
        _ = try writer.write(Self.report(2, delivered: 7, failed: 2))
        _ = try writer.write(Self.report(3, dryRun: true), updateLatest: false)
        let html = try ws.read("reports/index.html")
        let positions = [3, 2, 1].compactMap { html.range(of: #"<a href="run-\#(Self.runID($0)).html">"#)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted())
        #expect(html.contains(#"<a href="run-\#(Self.runID(2)).json">json</a>"#))
        #expect(html.contains(#"<span class="failed"><span class="badge">failed</span>"#))
        #expect(html.contains(#"<span class="dry_run"><span class="badge">dry run</span>"#))
        #expect(html.contains(#"<svg class="chart trend""#))
        // The headline is the newest real run, not the dry run after it.
        #expect(html.contains("<h1>2 of 9 deliveries failed for good</h1>"))
        #expect(try Self.index(ws).runs.map(\.runID) == [3, 2, 1].map(Self.runID))
        #expect(try ReportTools.offFileReferences(in: html).isEmpty)
    }

    @Test("report.keep prunes the oldest runs' files; latest.* and the index stay")
    func keepPrunes() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports, keep: 3)
        for n in 1...5 { _ = try writer.write(Self.report(n)) }
        #expect(Self.runFiles(ws) == [3, 4, 5].flatMap { ["run-\(Self.runID($0)).html", "run-\(Self.runID($0)).json"] })
        #expect(try Self.index(ws).runs.map(\.runID) == [5, 4, 3].map(Self.runID))
        let html = try ws.read("reports/index.html")
        #expect(!html.contains(Self.runID(2)) && html.contains(Self.runID(3)))
        #expect(try ws.read("reports/latest.json").contains(Self.runID(5)))
    }

    @Test("runs with nothing to do are kept only while one of them is the newest such run")
    func idleRunsCollapse() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports, keep: 5)
        func idle(_ n: Int) -> RunReport {
            HTMLReportTests.report(runID: Self.runID(n), totals: RunReport.Totals())
        }
        _ = try writer.write(Self.report(1))
        for n in 2...30 { _ = try writer.write(idle(n)) }
        #expect(try Self.index(ws).runs.map(\.runID) == [30, 1].map(Self.runID))
        _ = try writer.write(Self.report(31))
        _ = try writer.write(idle(32))
        #expect(try Self.index(ws).runs.map(\.runID) == [32, 31, 1].map(Self.runID))
        #expect(Self.runFiles(ws).count == 6)
    }

    @Test("runs started in the same second are ordered by their start time, not their random suffix")
    func sameSecond() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        var early = HTMLReportTests.report(runID: "20261129T050000Z-ffff")
        early.startedAt = "2026-11-29T05:00:00.100Z"
        early.totals.files = 1
        var late = HTMLReportTests.report(runID: "20261129T050000Z-0000")
        late.startedAt = "2026-11-29T05:00:00.900Z"
        late.totals.files = 1
        _ = try writer.write(early)
        _ = try writer.write(late)
        #expect(try Self.index(ws).runs.map(\.runID) == ["20261129T050000Z-0000", "20261129T050000Z-ffff"])
    }

    /// A run that did something (so the idle rule leaves it alone), started at `startedAt`.
    static func busyRun(_ runID: String, startedAt: String) -> RunReport {
        var report = HTMLReportTests.report(runID: runID)
        report.startedAt = startedAt
        report.totals.files = 1
        return report
    }

    @Test("start times compare as times: a started_at without milliseconds is not newer than one with them")
    func sameSecondStartTimesAsTimes() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        // The suffixes sort opposite to the start times; as text, "…:00Z" would sort after "…:00.250Z".
        _ = try writer.write(Self.busyRun("20261129T050000Z-ffff", startedAt: "2026-11-29T05:00:00Z"))
        _ = try writer.write(Self.busyRun("20261129T050000Z-0000", startedAt: "2026-11-29T05:00:00.250Z"))
        let newestFirst = ["20261129T050000Z-0000", "20261129T050000Z-ffff"]
        #expect(try Self.index(ws).runs.map(\.runID) == newestFirst)
        let html = try ws.read("reports/index.html")
        let positions = newestFirst.compactMap { html.range(of: #"<a href="run-\#($0).html">"#)?.lowerBound }
        #expect(positions.count == 2 && positions == positions.sorted())
    }

    @Test("report.keep deletes the runs that started first, not those whose ids sort first")
    func keepPrunesByStartTime() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports, keep: 2)
        // Three runs in one second, written in start order; their random suffixes sort the other way.
        _ = try writer.write(Self.busyRun("20261129T050000Z-ffff", startedAt: "2026-11-29T05:00:00Z"))
        _ = try writer.write(Self.busyRun("20261129T050000Z-8000", startedAt: "2026-11-29T05:00:00.400Z"))
        _ = try writer.write(Self.busyRun("20261129T050000Z-0000", startedAt: "2026-11-29T05:00:00.900Z"))
        #expect(try Self.index(ws).runs.map(\.runID) == ["20261129T050000Z-0000", "20261129T050000Z-8000"])
        #expect(Self.runFiles(ws) == ["0000", "8000"].flatMap { ["run-20261129T050000Z-\($0).html", "run-20261129T050000Z-\($0).json"] })
    }

    @Test("start times: RFC 3339 text to milliseconds, and the second a run id starts with")
    func startTimeParsing() {
        #expect(RFC3339.milliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.milliseconds("2026-11-29T05:15:00.123Z") == 1_795_929_300_123)
        #expect(RFC3339.milliseconds("2026-11-29T05:15:00.1239Z") == 1_795_929_300_123)
        #expect(RFC3339.milliseconds("2026-11-29T06:15:00.5+01:00") == 1_795_929_300_500)
        #expect(RFC3339.milliseconds("2000-02-29T00:00:00Z") == 951_782_400_000)
        #expect(RFC3339.milliseconds("yesterday") == nil)
        #expect(ReportWriter.milliseconds(runID: "20261129T051500Z-3fa2") == 1_795_929_300_000)
        #expect(ReportWriter.milliseconds(runID: "nightly") == nil)
    }

    @Test("a run missing from runs.json (an overlapping run won the race) is added back from its JSON")
    func recoversLostEntry() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        _ = try writer.write(Self.report(1, delivered: 1))
        _ = try writer.write(Self.report(2, delivered: 2))
        // Another run rewrote runs.json from a listing taken before run 2 existed.
        try Data(RunIndex(runs: [RunIndex.Entry(Self.report(1, delivered: 1))]).encoded()).write(to: URL(fileURLWithPath: ws.reports + "/runs.json"))
        _ = try writer.write(Self.report(3, delivered: 3))
        let runs = try Self.index(ws).runs
        #expect(runs.map(\.runID) == [3, 2, 1].map(Self.runID))
        #expect(runs.map(\.totals.delivered) == [3, 2, 1])
    }

    @Test("a damaged runs.json is rebuilt from the run files")
    func rebuildsDamagedIndex() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        _ = try writer.write(Self.report(1))
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: ws.reports + "/runs.json"))
        _ = try writer.write(Self.report(2))
        #expect(try Self.index(ws).runs.map(\.runID) == [2, 1].map(Self.runID))
    }

    @Test("the index comes from runs.json, not from re-reading every run's JSON")
    func usesCachedFigures() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        _ = try writer.write(Self.report(1, delivered: 41))
        // If the writer re-read run 1's JSON it would find nothing usable here.
        try Data("garbage".utf8).write(to: URL(fileURLWithPath: "\(ws.reports)/run-\(Self.runID(1)).json"))
        _ = try writer.write(Self.report(2))
        #expect(try Self.index(ws).runs.first { $0.runID == Self.runID(1) }?.totals.delivered == 41)
    }

    @Test("with the default keep, 120 runs leave the newest 100, and each write stays quick")
    func hundredRuns() throws {
        let ws = try TestWorkspace()
        let writer = ReportWriter(directory: ws.reports)
        let clock = ContinuousClock()
        var slowest = Duration.zero
        for n in 1...120 {
            let started = clock.now
            _ = try writer.write(Self.report(n, delivered: n, failed: n % 7 == 0 ? 1 : 0))
            slowest = max(slowest, started.duration(to: clock.now))
        }
        #expect(Self.runFiles(ws).count == 200)
        let runs = try Self.index(ws).runs
        #expect(runs.count == 100)
        #expect(runs.first?.runID == Self.runID(120) && runs.last?.runID == Self.runID(21))
        let html = try ws.read("reports/index.html")
        #expect(html.components(separatedBy: "<tr><td class=\"wrap\" data-label=\"Run\">").count - 1 == 100)
        #expect(html.contains("the last \(HTMLIndex.trendRuns) runs"))
        // Generous: a write is a handful of small files, whatever the number of runs kept.
        #expect(slowest < .seconds(2), "slowest write took \(slowest)")
    }

    @Test("before any real run, index.html does not link latest.html")
    func noLatestYet() throws {
        let ws = try TestWorkspace()
        _ = try ReportWriter(directory: ws.reports).write(Self.report(1, dryRun: true), updateLatest: false)
        let html = try ws.read("reports/index.html")
        #expect(!html.contains("latest.html\""))
        #expect(!FileManager.default.fileExists(atPath: ws.reports + "/latest.html"))
    }

    @Test("report.keep: default 100, a whole number of at least 1")
    func keepConfig() throws {
        let ws = try TestWorkspace()
        let base = testConfig(endpoints: testEndpoint(port: 9))
        #expect(try ws.config(base).reportKeep == 100)
        let seven = base.replacingOccurrences(of: "  dir: ./reports", with: "  dir: ./reports\n  keep: 7")
        #expect(try ws.config(seven).reportKeep == 7)
        for bad in ["0", "-3", "many", "2.5"] {
            let yaml = base.replacingOccurrences(of: "  dir: ./reports", with: "  dir: ./reports\n  keep: \(bad)")
            #expect {
                try ws.config(yaml)
            } throws: { error in
                let text = "\(error)"
                return text.contains("config.yaml:5:9: report.keep:") && text.contains(bad)
            }
        }
    }
}
