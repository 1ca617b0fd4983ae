import Foundation
import HookSpoolReceiver
import Testing
@testable import HookSpool

/// Reports from real runs, rendered by headless Chromium (`--dump-dom`): what a person sees is there,
/// nothing from outside turns into markup, and the browser makes no network request.
@Suite("HTML report in Chromium", .enabled("needs chromium; CI=true requires it") { ReportTools.isCI || ReportTools.chromium != nil })
struct HTMLBrowserTests {
    @Test("a failing run: the headline, every endpoint and every failure id are on the rendered page")
    func failingRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.failing(ws)
        let report = outcome.report
        let dom = try await ReportTools.dumpDOM(try #require(outcome.reportFiles?.html))
        #expect(dom.contains(#"<header class="headline failed" id="headline"><span class="badge">failed</span>"#))
        #expect(dom.contains("<h1>\(HTMLPage.escape(RunVerdict.sentence(dryRun: false, totals: report.totals, problems: 0)))</h1>"))
        #expect(report.endpoints.count == 4)
        for endpoint in report.endpoints {
            #expect(dom.contains(#"<span class="name">\#(endpoint.name)</span>"#), "endpoint \(endpoint.name)")
        }
        let ids = report.failures.compactMap(\.eventID)
        #expect(Set(ids) == ["evt_f1", "evt_f2", "evt_f3"])
        for id in ids {
            #expect(dom.contains("<code>\(id)</code>"), "failure \(id)")
        }
        #expect(dom.contains("mixed.ndjson:3"))
        let noAnswer = try #require(report.failures.first { $0.endpoint == "closed" })
        #expect(noAnswer.lastStatus == nil && dom.contains("<td data-label=\"Last status or error\">\(noAnswer.lastError ?? "?")</td>"))
        #expect(dom.contains("{\"error\":\"endpoint deleted\"}") || dom.contains("{&quot;error&quot;:&quot;endpoint deleted&quot;}"))
        #expect(!dom.lowercased().contains("<script"))
        #expect(try ReportTools.offFileReferences(in: dom).isEmpty)
    }

    @Test("a clean run renders as ok")
    func cleanRun() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.clean(ws)
        let dom = try await ReportTools.dumpDOM(ws.reports + "/latest.html")
        #expect(outcome.exitStatus == .ok)
        #expect(dom.contains(#"<span class="badge">ok</span>"#))
        #expect(dom.contains("All 7 deliveries succeeded"))
        #expect(dom.contains(#"<span class="name">orders</span>"#) && dom.contains(#"<span class="name">users</span>"#))
    }

    @Test("<script>, quotes and & through event type, id, response body and file name stay text")
    func escapingRealRun() async throws {
        let ws = try TestWorkspace()
        let hostile = HTMLReportTests.hostile
        let type = #"<script>alert("type'&")</script>"#
        let id = #"<script>alert("id'&")</script>"#
        let body = #"<script>alert("body'&")</script>"#
        // A file name cannot hold '/', so this one opens a script element and never closes it.
        let file = #"x<script>alert("file'&").ndjson"#
        let line = try String(decoding: JSONSerialization.data(withJSONObject: ["id": id, "type": type]), as: UTF8.self)
        try ws.drop(file, [line, hostile])
        let outcome = try await LoopbackReceiver.run(handler: { _ in ReceiverReply(status: 400, body: body) }) { receiver in
            try await ws.run(testConfig(endpoints: testEndpoint(name: "hook", port: receiver.port)))
        }
        let failure = try #require(outcome.report.failures.first { $0.endpoint != nil })
        #expect(failure.eventType == type && failure.eventID == id && failure.responseExcerpt == body && failure.file == file)

        let path = try #require(outcome.reportFiles?.html)
        let html = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!html.lowercased().contains("<script"))
        let dom = try await ReportTools.dumpDOM(path)
        #expect(!dom.lowercased().contains("<script"))
        for text in [type, id, body] {
            // In the rendered DOM the text is there, serialised back as escaped text.
            let serialised = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            #expect(dom.contains(serialised), "\(text)")
        }
        #expect(dom.contains(#"x&lt;script&gt;alert("file'&amp;").ndjson"#))
    }

    @Test("outside text in endpoint names, URLs and errors stays text too")
    func escapingEveryField() async throws {
        let ws = try TestWorkspace()
        try FileManager.default.createDirectory(atPath: ws.reports, withIntermediateDirectories: true)
        let h = HTMLReportTests.hostile
        var endpoint = RunReport.EndpointSummary(name: h, url: "https://x.example/\(h)", latencyMs: RunReport.Latency(p50: 1, p90: 2, p99: 3, max: 4))
        endpoint.attempts = 1
        endpoint.statusCodes = [h: 1]
        let report = HTMLReportTests.report(
            totals: HTMLReportTests.totals(failed: 1),
            endpoints: [endpoint],
            failures: [RunReport.FailureRow(file: h, line: 1, eventID: h, eventType: h, endpoint: h, attempts: 1, lastStatus: nil, lastError: h, responseExcerpt: h)],
            errors: [h]
        )
        let written = try ReportWriter(directory: ws.reports).write(report)
        for page in [written.html, ws.reports + "/index.html"] {
            let dom = try await ReportTools.dumpDOM(page)
            #expect(!dom.lowercased().contains("<script"), "\(page)")
        }
    }

    @Test("rendering makes no network request: every request Chromium tries goes to a trap, and none is the page's")
    func noNetwork() async throws {
        let ws = try TestWorkspace()
        let outcome = try await ReportScenario.failing(ws)
        // Chromium's own background services may call home even when told not to; those are not the page's.
        // Nor is a connection that sent nothing by the time Chromium exited (a speculative preconnect
        // to the proxy): it requested nothing.
        func pageRequests(_ lines: [String]) -> [String] {
            lines.filter { line in
                guard !line.isEmpty else { return false }
                let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? line
                let host = (target.hasPrefix("http://") ? String(target.dropFirst(7).prefix { $0 != "/" && $0 != ":" }) : String(target.prefix { $0 != ":" }))
                return ![".google.com", ".googleapis.com", ".gvt1.com"].contains { host.hasSuffix($0) }
            }
        }
        for page in [try #require(outcome.reportFiles?.html), ws.reports + "/index.html"] {
            let trap = try RequestTrap()
            let dom = try await ReportTools.dumpDOM(page, proxyPort: trap.port)
            #expect(dom.contains("</footer>"))
            #expect(pageRequests(trap.requestLines()) == [], "\(page)")
        }

        // The trap does catch a page that fetches something.
        let canary = ws.root + "/canary.html"
        try Data(#"<!doctype html><html><body><img src="http://canary.hookspool.invalid/pixel.png"></body></html>"#.utf8).write(to: URL(fileURLWithPath: canary))
        let trap = try RequestTrap()
        _ = try await ReportTools.dumpDOM(canary, proxyPort: trap.port)
        #expect(pageRequests(trap.requestLines()).contains { $0.contains("canary.hookspool.invalid") })
    }

    @Test("index.html renders with every run listed")
    func index() async throws {
        let ws = try TestWorkspace()
        let clean = try await ReportScenario.clean(ws)
        let dry = try await ReportScenario.dryRun(ws)
        let dom = try await ReportTools.dumpDOM(ws.reports + "/index.html")
        for outcome in [clean, dry] {
            #expect(dom.contains(#"<a href="run-\#(outcome.report.runID).html">"#))
        }
        #expect(dom.contains(#"<svg class="chart trend""#))
        #expect(try ReportTools.offFileReferences(in: dom).isEmpty)
    }
}
