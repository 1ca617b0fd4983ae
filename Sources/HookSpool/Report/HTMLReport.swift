import Foundation

/// Renders a run report as one self-contained HTML page: a headline that says whether the run was
/// clean, then endpoints, failures, invalid lines and files. Everything that came from outside
/// (types, ids, response bodies, file names, endpoint names and URLs, errors) is escaped.
enum HTMLReport {
    /// Most file rows shown; files that did not end in `done/` come first.
    static let fileRowCap = 300

    static func render(_ report: RunReport) -> String {
        let verdict = RunVerdict(report)
        var body = headline(report, verdict: verdict)
        body += problems(report)
        body += endpoints(report)
        body += failures(report)
        body += invalidLines(report)
        body += files(report)
        let title = "\(verdict.label.uppercased()) · hookspool run \(report.runID)"
        return HTMLPage.document(title: title, body: body)
    }

    // MARK: - Headline

    private static func headline(_ report: RunReport, verdict: RunVerdict) -> String {
        let t = report.totals
        let id = HTMLPage.escape(report.runID)
        var html = #"<nav><a href="index.html">All runs</a>"#
        if ReportWriter.isLinkableRunID(report.runID) {
            html += #" · <a href="run-\#(report.runID).json">This run as JSON</a>"#
        }
        html += "</nav>\n"
        html += #"<header class="headline \#(verdict.rawValue)" id="headline">"#
        html += #"<span class="badge">\#(verdict.label)</span> <span class="meta">hookspool run \#(id)</span>"#
        html += "<h1>\(HTMLPage.escape(RunVerdict.sentence(dryRun: report.dryRun, totals: t, problems: report.errors.count)))</h1>\n"
        html += #"<p class="meta">Started \#(HTMLPage.escape(report.startedAt)), finished \#(HTMLPage.escape(report.finishedAt)), took \#(HTMLPage.duration(ms: report.durationMs))"#
        html += report.dryRun ? ". Dry run: nothing was sent and no file was moved.</p>\n" : ".</p>\n"
        if !report.dryRun {
            html += HTMLChart.shareBar(
                [(label: "delivered", count: t.delivered, css: "s2"), (label: "failed", count: t.failed, css: "s4"), (label: "deferred", count: t.deferred, css: "s5")],
                summary: "Deliveries: \(t.delivered) delivered, \(t.failed) failed, \(t.deferred) deferred",
                cssClass: "bar"
            )
        }
        var jumps: [String] = []
        if !report.errors.isEmpty { jumps.append(##"<a href="#problems">\##(RunVerdict.count(report.errors.count, "problem"))</a>"##) }
        if t.failed > 0 { jumps.append(##"<a href="#failures">\##(RunVerdict.count(t.failed, "failed delivery", "failed deliveries"))</a>"##) }
        if t.invalidLines > 0 { jumps.append(##"<a href="#invalid">\##(RunVerdict.count(t.invalidLines, "invalid line"))</a>"##) }
        let disabled = report.endpoints.filter { $0.disabled != nil }.count
        if disabled > 0 { jumps.append(##"<a href="#endpoints">\##(RunVerdict.count(disabled, "endpoint")) disabled</a>"##) }
        if t.filesFailed + t.filesDeferred > 0 { jumps.append(##"<a href="#files">\##(RunVerdict.count(t.filesFailed + t.filesDeferred, "file")) not done</a>"##) }
        if !jumps.isEmpty {
            html += #"<p class="jump">Where to look: \#(jumps.joined(separator: " · "))</p>"#
        }
        html += "</header>\n"
        html += tiles(report)
        return html
    }

    private static func tiles(_ report: RunReport) -> String {
        let t = report.totals
        func tile(_ name: String, _ value: Int, sub: String? = nil, heat: String? = nil) -> String {
            let css = heat.map { #" class="\#($0)""# } ?? ""
            let subline = sub.map { #"<span class="sub">\#($0)</span>"# } ?? ""
            return "<div\(css)><dt>\(name)</dt><dd>\(HTMLPage.number(value))\(subline)</dd></div>"
        }
        let settled = t.delivered + t.failed + t.deferred
        var html = #"<dl class="tiles">"#
        html += tile("Files", t.files, sub: "\(t.filesDone) done · \(t.filesFailed) failed · \(t.filesDeferred) deferred")
        html += tile("Events", t.events, sub: "\(t.unrouted) unrouted")
        html += tile(report.dryRun ? "Deliveries routed" : "Deliveries", t.deliveries)
        if !report.dryRun {
            html += tile("Delivered", t.delivered, sub: "\(HTMLPage.percent(t.delivered, of: settled)) success")
            html += tile("Failed", t.failed, heat: t.failed > 0 ? "hot" : nil)
            html += tile("Deferred", t.deferred, heat: t.deferred > 0 ? "lukewarm" : nil)
        }
        html += tile("Invalid lines", t.invalidLines, heat: t.invalidLines > 0 ? "hot" : nil)
        html += tile("Attempts", t.attempts, sub: "\(t.retries) retries")
        html += "</dl>\n"
        return html
    }

    private static func problems(_ report: RunReport) -> String {
        guard !report.errors.isEmpty else { return "" }
        var html = #"<h2 id="problems">Problems that stopped part of the run</h2><ul class="problems">"#
        for error in report.errors { html += "<li>\(HTMLPage.escape(error))</li>" }
        return html + "</ul>\n"
    }

    // MARK: - Endpoints

    private static func endpoints(_ report: RunReport) -> String {
        var html = #"<h2 id="endpoints">Endpoints</h2>"#
        guard !report.endpoints.isEmpty else { return html + "<p>No endpoint is configured.</p>\n" }
        let scale = HTMLChart.latencyScale(report.endpoints)
        html += #"<div class="scroll"><table class="cards"><thead><tr><th>Endpoint</th><th class="n">Delivered</th><th class="n">Failed</th>"#
        html += #"<th class="n">Deferred</th><th class="n">Attempts</th><th class="n">Success</th><th>Answers</th>"#
        html += #"<th class="n">p50</th><th class="n">p90</th><th class="n">p99</th><th class="n">max</th><th>Latency</th></tr></thead><tbody>"#
        html += "\n"
        for endpoint in report.endpoints {
            let settled = endpoint.delivered + endpoint.failed + endpoint.deferred
            let rate = HTMLPage.percent(endpoint.delivered, of: settled)
            let rateHeat = endpoint.failed > 0 ? " hot" : endpoint.deferred > 0 ? " lukewarm" : ""
            html += #"<tr><td data-label="Endpoint"><span><span class="name">\#(HTMLPage.escape(endpoint.name))</span>"#
            html += #"<span class="url">\#(HTMLPage.escape(endpoint.url))</span>"#
            if let reason = endpoint.disabled {
                html += #"<span class="deferred"><span class="badge">disabled</span></span> <span class="meta">\#(HTMLPage.escape(reason))</span>"#
            }
            if let limit = endpoint.rateLimit {
                html += #"<span class="meta">\#(HTMLPage.escape(Self.rateLimitLine(limit)))</span>"#
            }
            if let ordering = endpoint.ordering {
                let held = ordering.held == 0 ? "nothing held" : "\(RunVerdict.count(ordering.held, "delivery", "deliveries")) held for a later run, in order"
                html += #"<span class="meta">\#(HTMLPage.escape("ordering \(ordering.mode): \(held)"))</span>"#
            }
            html += "</span></td>"
            html += count(endpoint.delivered, label: "Delivered")
            html += count(endpoint.failed, label: "Failed", heat: "hot")
            html += count(endpoint.deferred, label: "Deferred", heat: "lukewarm")
            html += count(endpoint.attempts, label: "Attempts")
            html += #"<td class="n\#(rateHeat)" data-label="Success">\#(rate)</td>"#
            let mix = HTMLChart.statusMix(endpoint.statusCodes)
            html += #"<td class="chartcell" data-label="Answers">\#(mix.isEmpty ? "—" : mix)</td>"#
            let latency = endpoint.latencyMs
            for (name, value) in [("p50", latency.p50), ("p90", latency.p90), ("p99", latency.p99), ("max", latency.max)] {
                html += #"<td class="n" data-label="\#(name)">\#(HTMLPage.milliseconds(value))</td>"#
            }
            let chart = HTMLChart.latency(latency, scaleMax: scale)
            html += #"<td class="chartcell" data-label="Latency">\#(chart.isEmpty ? "—" : chart)</td></tr>"#
            html += "\n"
        }
        html += "</tbody></table></div>\n"
        html += #"<p class="note">Success is delivered out of delivered, failed and deferred. Answers count every attempt by HTTP status, or by what happened when no answer came. The latency bars share a log scale up to \#(HTMLPage.milliseconds(HTMLChart.latencyScale(report.endpoints))): solid to p50, lighter to p90 and p99, a tick at max.</p>"#
        return html + "\n"
    }

    /// `rate limit 50/s: 120 attempts waited 3.2 s in all, 180 ms at most; 2 slowdowns (429/503)`.
    static func rateLimitLine(_ limit: RunReport.RateLimitSummary) -> String {
        var line = "rate limit \(limit.limit): "
        if limit.waited == 0 {
            line += "no attempt waited"
        } else {
            line += "\(RunVerdict.count(limit.waited, "attempt")) waited \(HTMLPage.duration(ms: limit.waitTotalMs)) in all, "
            line += "\(HTMLPage.duration(ms: limit.waitMaxMs)) at most"
        }
        if limit.slowdowns > 0 { line += "; \(RunVerdict.count(limit.slowdowns, "slowdown")) (429/503)" }
        return line
    }

    // MARK: - Files

    private static func files(_ report: RunReport) -> String {
        var html = #"<h2 id="files">Files</h2>"#
        guard !report.files.isEmpty else { return html + "<p>No spool file was ready.</p>\n" }
        let rank: [FileOutcome: Int] = [.failed: 0, .deferred: 1, .done: 2]
        let ordered = report.files.enumerated().sorted { (rank[$0.element.outcome] ?? 3, $0.offset) < (rank[$1.element.outcome] ?? 3, $1.offset) }.map(\.element)
        let shown = ordered.prefix(fileRowCap)
        html += #"<div class="scroll"><table class="cards"><thead><tr><th>File</th><th>Outcome</th><th class="n">Events</th><th class="n">Invalid lines</th>"#
        html += #"<th class="n">Delivered</th><th class="n">Failed</th><th class="n">Deferred</th><th>Moved to</th></tr></thead><tbody>"#
        html += "\n"
        for file in shown {
            let css = file.outcome == .done ? "ok" : file.outcome == .deferred ? "deferred" : "failed"
            html += #"<tr><td class="wrap" data-label="File">\#(HTMLPage.escape(file.name))</td>"#
            html += #"<td data-label="Outcome"><span class="\#(css)"><span class="badge">\#(file.outcome.rawValue)</span></span></td>"#
            html += count(file.events, label: "Events")
            html += count(file.invalidLines, label: "Invalid lines", heat: "hot")
            html += count(file.delivered, label: "Delivered")
            html += count(file.failed, label: "Failed", heat: "hot")
            html += count(file.deferred, label: "Deferred", heat: "lukewarm")
            let moved = file.movedTo.map(HTMLPage.escape) ?? (report.dryRun ? "— (dry run)" : "— (not moved)")
            html += #"<td class="wrap" data-label="Moved to">\#(moved)</td></tr>"#
            html += "\n"
        }
        html += "</tbody></table></div>\n"
        if ordered.count > shown.count {
            html += #"<p class="note">\#(ordered.count - shown.count) more files, all done, are listed in \#(jsonName(report)).</p>"#
            html += "\n"
        }
        return html
    }

    // MARK: - Cells

    /// A right-aligned count cell, greyed when zero and coloured with `heat` when not; `extra` adds a class.
    static func count(_ value: Int, label: String, heat: String? = nil, extra: String? = nil) -> String {
        var css = value == 0 ? "n zero" : heat.map { "n \($0)" } ?? "n"
        if let extra { css += " " + extra }
        return #"<td class="\#(css)" data-label="\#(label)">\#(HTMLPage.number(value))</td>"#
    }

    /// `run-<id>.json`, for notes that send the reader to the full list.
    static func jsonName(_ report: RunReport) -> String {
        ReportWriter.isLinkableRunID(report.runID) ? #"<a href="run-\#(report.runID).json">run-\#(report.runID).json</a>"# : "the run's JSON report"
    }
}
