import Foundation
import Testing
@testable import HookSpool

/// The HTML pages as text: the headline for each kind of run, grouping and caps, escaping of every
/// outside field, and that nothing points off the report folder.
@Suite("HTML report")
struct HTMLReportTests {
    /// Text that would run as script if any field were written unescaped, with both quotes and an ampersand.
    static let hostile = #"<script>alert("x'&")</script>"#
    static let hostileEscaped = "&lt;script&gt;alert(&quot;x&#39;&amp;&quot;)&lt;/script&gt;"

    /// A report built by hand, for the cases a real run makes hard to reach.
    static func report(
        runID: String = "20261129T051500Z-00aa",
        dryRun: Bool = false,
        totals: RunReport.Totals = RunReport.Totals(),
        endpoints: [RunReport.EndpointSummary] = [],
        files: [RunReport.FileSummary] = [],
        failures: [RunReport.FailureRow] = [],
        failuresOmitted: Int = 0,
        errors: [String] = []
    ) -> RunReport {
        RunReport(
            runID: runID, startedAt: "2026-11-29T05:15:00.000Z", finishedAt: "2026-11-29T05:15:01.250Z", durationMs: 1250,
            dryRun: dryRun, totals: totals, endpoints: endpoints, files: files, failures: failures,
            failuresOmitted: failuresOmitted, errors: errors
        )
    }

    static func failure(_ n: Int, endpoint: String = "orders", status: Int? = 410, error: String = "rejected") -> RunReport.FailureRow {
        RunReport.FailureRow(
            file: "batch-\(n % 3).ndjson", line: n, eventID: "evt_\(n)", eventType: "order.created", endpoint: endpoint,
            attempts: 1, lastStatus: status, lastError: error, responseExcerpt: status == nil ? nil : "gone"
        )
    }

    static func totals(delivered: Int = 0, failed: Int = 0, deferred: Int = 0, invalid: Int = 0, files: Int = 1) -> RunReport.Totals {
        var totals = RunReport.Totals()
        totals.files = files
        totals.events = delivered + failed + deferred
        totals.deliveries = delivered + failed + deferred
        totals.delivered = delivered
        totals.failed = failed
        totals.deferred = deferred
        totals.invalidLines = invalid
        totals.attempts = delivered + failed + deferred
        return totals
    }

    @Test("the headline says ok, deferred, failed or dry run, with the figures", arguments: [
        (totals(delivered: 12), false, [String](), "ok", "All 12 deliveries succeeded"),
        (totals(delivered: 10, deferred: 2), false, [], "deferred", "2 deliveries deferred to a later run; 10 delivered, none failed"),
        (totals(delivered: 9, failed: 3), false, [], "failed", "3 of 12 deliveries failed for good"),
        (totals(delivered: 12, invalid: 1), false, [], "failed", "1 invalid line"),
        (totals(delivered: 12), false, ["cannot move a.ndjson"], "failed", "a problem stopped part of the run"),
        (totals(delivered: 0, files: 0), false, [], "ok", "Nothing to do"),
        (totals(invalid: 2), true, [], "dry run", "Dry run: 0 deliveries routed from 0 events; nothing was sent or moved; 2 invalid lines"),
    ])
    func headline(totals: RunReport.Totals, dryRun: Bool, errors: [String], word: String, sentence: String) {
        let html = HTMLReport.render(Self.report(dryRun: dryRun, totals: totals, errors: errors))
        let css = RunVerdict(dryRun: dryRun, totals: totals, problems: errors.count).rawValue
        #expect(html.contains(#"<header class="headline \#(css)" id="headline"><span class="badge">\#(word)</span>"#))
        #expect(html.contains("<title>\(word.uppercased()) · hookspool run"))
        #expect(html.contains(sentence), "\(html)")
    }

    @Test("a few failures are one table; many are grouped by endpoint and cause, largest group first")
    func grouping() {
        let few = (1...5).map { Self.failure($0) }
        let fewHTML = HTMLReport.render(Self.report(totals: Self.totals(failed: 5), failures: few))
        #expect(!fewHTML.contains("grouped by endpoint and cause"))
        #expect(few.allSatisfy { fewHTML.contains(">\($0.eventID ?? "")<") })

        let many = (1...30).map { Self.failure($0, endpoint: "orders") }
            + (31...45).map { Self.failure($0, endpoint: "crm", status: nil, error: "timeout") }
            + (46...50).map { Self.failure($0, endpoint: "orders", status: 503, error: "retries_exhausted") }
        let html = HTMLReport.render(Self.report(totals: Self.totals(failed: 50), failures: many))
        #expect(html.contains("50 failed deliveries, grouped by endpoint and cause"))
        let headings = [
            #"<h3 id="fg-1">orders — HTTP 410 · rejected (30)</h3>"#,
            #"<h3 id="fg-2">crm — timeout (15)</h3>"#,
            #"<h3 id="fg-3">orders — HTTP 503 · retries_exhausted (5)</h3>"#,
        ]
        let positions = headings.compactMap { html.range(of: $0)?.lowerBound }
        #expect(positions.count == 3 && positions == positions.sorted(), "groups in order of size")
        // Each group shows at most its cap; the rest are counted and sent to the JSON.
        #expect(html.contains("10 more in this group are not shown here."))
        #expect(html.contains(#"Showing 40 of 50 failed deliveries. All 50 listed failures are in <a href="run-20261129T051500Z-00aa.json">"#))
    }

    @Test("the page lists at most its cap of failures and says where the rest are")
    func failureCap() {
        let rows = (1...600).map { Self.failure($0, endpoint: "e\($0 % 40)") }
        let html = HTMLReport.render(Self.report(totals: Self.totals(failed: 700), failures: rows, failuresOmitted: 100))
        let shownRows = html.components(separatedBy: #"<td class="wrap" data-label="File:line">"#).count - 1
        #expect(shownRows == HTMLReport.failureRowCap)
        #expect(html.contains("Showing \(HTMLReport.failureRowCap) of 700 failed deliveries. All 600 listed failures are in"))
        #expect(html.contains("100 further failures"))
    }

    @Test("invalid lines are listed with their reasons")
    func invalidLines() {
        let rows = [
            RunReport.FailureRow(file: "a.ndjson", line: 2, eventID: nil, eventType: nil, endpoint: nil, attempts: 0, lastStatus: nil, lastError: "not JSON", responseExcerpt: nil),
            RunReport.FailureRow(file: "a.ndjson", line: 9, eventID: nil, eventType: nil, endpoint: nil, attempts: 0, lastStatus: nil, lastError: "no \"type\"", responseExcerpt: nil),
        ]
        let html = HTMLReport.render(Self.report(totals: Self.totals(invalid: 2), failures: rows))
        #expect(html.contains(#"<h2 id="invalid">Invalid lines</h2>"#))
        #expect(html.contains(#">a.ndjson:2</td><td class="wrap" data-label="Reason">not JSON</td>"#))
        #expect(html.contains(#">a.ndjson:9</td><td class="wrap" data-label="Reason">no &quot;type&quot;</td>"#))
        #expect(html.contains("<p>None.</p>"), "no failed delivery among invalid lines")
    }

    @Test("every outside field is escaped: event type and id, response body, file name, endpoint name and URL, errors")
    func escapesEverything() throws {
        let h = Self.hostile
        var endpoint = RunReport.EndpointSummary(name: h, url: "https://x.example/\(h)", latencyMs: RunReport.Latency(p50: 1, p90: 2, p99: 3, max: 4))
        endpoint.attempts = 1
        endpoint.failed = 1
        endpoint.statusCodes = [h: 1]
        endpoint.disabled = h
        let report = Self.report(
            runID: h,
            totals: Self.totals(failed: 1, invalid: 1),
            endpoints: [endpoint],
            files: [RunReport.FileSummary(name: h, outcome: .failed, events: 1, invalidLines: 1, delivered: 0, failed: 1, deferred: 0, movedTo: "failed/\(h)")],
            failures: [
                RunReport.FailureRow(file: h, line: 1, eventID: h, eventType: h, endpoint: h, attempts: 1, lastStatus: 400, lastError: h, responseExcerpt: h),
                RunReport.FailureRow(file: h, line: 2, eventID: nil, eventType: nil, endpoint: nil, attempts: 0, lastStatus: nil, lastError: h, responseExcerpt: nil),
            ],
            errors: [h]
        )
        for html in [HTMLReport.render(report), HTMLIndex.render(RunIndex(runs: [RunIndex.Entry(report)]), hasLatest: true)] {
            #expect(!html.lowercased().contains("<script"))
            #expect(!html.contains(#"alert("x'"#))
            #expect(html.contains(Self.hostileEscaped))
            #expect(try ReportTools.offFileReferences(in: html).isEmpty)
        }
        let page = HTMLReport.render(report)
        // Each field shows up escaped: the title, the headline, URL, name, status key, file, type, id, error, excerpt, problem…
        #expect(page.components(separatedBy: Self.hostileEscaped).count - 1 >= 14)
        // An id that cannot be a file name is shown but not linked.
        #expect(!page.contains("This run as JSON"))
    }

    @Test("numbers are written as printf writes them, and text with nothing to escape comes back as it is")
    func formatting() {
        let values: [Double] = [0, 0.05, 0.15, 0.25, 0.45, 1.005, 2.675, 9.95, 9.999, 99.95, 99.949, 999.5, 1234.5678, 1e15, -0.05, -3.25]
        for value in values {
            for decimals in 0...2 {
                #expect(HTMLPage.fixed(value, decimals: decimals) == String(format: "%.*f", decimals, value), "\(value), \(decimals)")
            }
        }
        #expect(HTMLPage.fixed(1e300, decimals: 2) == String(format: "%.2f", 1e300))
        #expect(HTMLPage.fixed(-0.04, decimals: 1) == "-0.0")
        // Values of every size, and the ties and near-ties of each.
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var mismatches: [String] = []
        for _ in 0..<3000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let mantissa = Double(seed >> 11) / Double(1 << 53)
            let exponent = Int(seed % 24) - 8
            var value = mantissa * Double(sign: .plus, exponent: exponent * 2, significand: 1)
            if seed % 3 == 0 { value = (value * 200).rounded() / 200 + (seed % 2 == 0 ? 0 : value.ulp) }
            for decimals in 0...2 where HTMLPage.fixed(value, decimals: decimals) != String(format: "%.*f", decimals, value) {
                mismatches.append("\(value) \(decimals)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
        #expect(HTMLPage.milliseconds(9.95) == "9.9 ms")
        #expect(HTMLPage.milliseconds(12_345) == "12.3 s")
        #expect(HTMLPage.percent(1999, of: 2000) == "99.95 %")
        // The escaping, scalar by scalar, as the page promises it.
        func reference(_ text: String) -> String {
            text.unicodeScalars.map { scalar -> String in
                switch scalar {
                case "&": "&amp;"
                case "<": "&lt;"
                case ">": "&gt;"
                case "\"": "&quot;"
                case "'": "&#39;"
                case "\t", "\n", "\r": String(scalar)
                default: scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "\u{FFFD}" : String(scalar)
                }
            }.joined()
        }
        for text in ["orders-eu", "https://example.com/hook?x=1", "", "café", "a\u{85}b", "\u{9F}", "x&y", "tab\there", "\u{7F}", "©", "\u{1B}[0m", "a\u{A0}b", "日本\u{9C}"] {
            #expect(HTMLPage.escape(text) == reference(text), "\(text.debugDescription)")
        }
        #expect(HTMLPage.escape("a\u{85}b") == "a\u{FFFD}b")
    }

    @Test("control characters in a response body are neutralised")
    func controlCharacters() {
        #expect(HTMLPage.escape("a\u{1B}[31mred\u{0}b\tc\n") == "a\u{FFFD}[31mred\u{FFFD}b\tc\n")
    }

    @Test("the page is self-contained: no script, nothing fetched, links only to the report folder")
    func selfContained() throws {
        var endpoint = RunReport.EndpointSummary(name: "orders", url: "https://orders.example.com/hooks", latencyMs: RunReport.Latency(p50: 12, p90: 40, p99: 90, max: 120))
        endpoint.attempts = 10
        endpoint.delivered = 9
        endpoint.failed = 1
        endpoint.statusCodes = ["200": 9, "410": 1]
        let report = Self.report(totals: Self.totals(delivered: 9, failed: 1), endpoints: [endpoint], failures: [Self.failure(1)])
        let html = HTMLReport.render(report)
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<img") && !html.contains("<link") && !html.contains("<iframe"))
        #expect(html.contains(#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"#))
        #expect(html.contains("<style>") && html.contains("<svg"))
        #expect(html.contains("@media (prefers-color-scheme:dark)") && html.contains("@media print") && html.contains(#"name="viewport""#))
        #expect(try ReportTools.offFileReferences(in: html) == [])
        // The endpoint URL is shown as text, never as a link.
        #expect(try ReportTools.references(in: html).sorted() == ["#failures", "index.html", "run-20261129T051500Z-00aa.json"])
        // The check itself catches what it must.
        let bad = #"<img src="https://cdn.example/x.png"><a href='//evil.example/'>x</a><style>@import url(x.css)</style>"#
        #expect(try ReportTools.offFileReferences(in: bad).count == 4)
    }

    @Test("per-endpoint charts: status mix and latency, on a shared scale")
    func charts() {
        var fast = RunReport.EndpointSummary(name: "fast", url: "https://a.example/", latencyMs: RunReport.Latency(p50: 5, p90: 8, p99: 9, max: 10))
        fast.attempts = 10
        fast.delivered = 10
        fast.statusCodes = ["200": 10]
        var slow = RunReport.EndpointSummary(name: "slow", url: "https://b.example/", latencyMs: RunReport.Latency(p50: 800, p90: 2000, p99: 4000, max: 4500))
        slow.attempts = 7
        slow.delivered = 3
        slow.failed = 1
        slow.statusCodes = ["200": 3, "503": 2, "timeout": 2]
        let idle = RunReport.EndpointSummary(name: "idle", url: "https://c.example/", latencyMs: RunReport.Latency())
        let html = HTMLReport.render(Self.report(totals: Self.totals(delivered: 13, failed: 1), endpoints: [fast, slow, idle]))
        #expect(html.contains("<title>Attempts by answer: 200 ×3, 503 ×2, timeout ×2</title>"))
        #expect(html.contains(#"<rect class="net""#) && html.contains(#"<rect class="s5""#))
        #expect(html.contains("log scale from 1 ms to 10.0 s"))
        #expect(html.contains(#"data-label="Success">75.0 %</td>"#))
        #expect(html.components(separatedBy: #"<svg class="chart lat""#).count - 1 == 2, "no latency chart for an endpoint without attempts")
    }

    @Test("a disabled endpoint is marked, with why, and the headline points at it")
    func disabledEndpoint() {
        var endpoint = RunReport.EndpointSummary(name: "crm", url: "https://crm.example/", latencyMs: RunReport.Latency())
        endpoint.deferred = 3
        endpoint.disabled = "answered 410 Gone"
        let html = HTMLReport.render(Self.report(totals: Self.totals(deferred: 3), endpoints: [endpoint]))
        #expect(html.contains(#"<span class="deferred"><span class="badge">disabled</span></span> <span class="meta">answered 410 Gone</span>"#))
        #expect(html.contains(##"<a href="#endpoints">1 endpoint disabled</a>"##))
    }

    @Test("the files table puts files that did not finish in done/ first, and a dry run says nothing moved")
    func files() throws {
        let files = [
            RunReport.FileSummary(name: "a.ndjson", outcome: .done, events: 1, invalidLines: 0, delivered: 1, failed: 0, deferred: 0, movedTo: nil),
            RunReport.FileSummary(name: "b.ndjson", outcome: .failed, events: 1, invalidLines: 1, delivered: 0, failed: 0, deferred: 0, movedTo: nil),
        ]
        let html = HTMLReport.render(Self.report(dryRun: true, totals: Self.totals(files: 2), files: files))
        let done = try #require(html.range(of: ">a.ndjson<"))
        let failed = try #require(html.range(of: ">b.ndjson<"))
        #expect(failed.lowerBound < done.lowerBound)
        #expect(html.contains("— (dry run)"))
    }
}
