import Foundation

/// Renders `index.html`: every kept run, newest first, with its headline figures, and a trend chart
/// of delivered and failed deliveries over the last runs.
enum HTMLIndex {
    /// Runs shown in the trend chart.
    static let trendRuns = 60

    /// - Parameters:
    ///   - index: the runs, newest first.
    ///   - hasLatest: whether `latest.html` exists (it does not until a real, non-dry run wrote it).
    static func render(_ index: RunIndex, hasLatest: Bool) -> String {
        let runs = index.runs
        var body = "<nav>"
        body += hasLatest ? #"<a href="latest.html">Latest run</a> · <a href="latest.json">latest.json</a>"# : "No real run yet (dry runs leave latest.html alone)"
        body += "</nav>\n"
        guard let newest = runs.first else {
            body += "<h1>hookspool runs</h1><p>No run has written a report here yet.</p>\n"
            return HTMLPage.document(title: "hookspool runs", body: body)
        }
        let newestReal = runs.first { !$0.dryRun } ?? newest
        body += #"<header class="headline \#(newestReal.outcome.rawValue)"><span class="badge">\#(newestReal.outcome.label)</span> "#
        body += #"<span class="meta">latest\#(newestReal.dryRun ? "" : " real") run, \#(HTMLPage.escape(newestReal.startedAt))</span>"#
        body += "<h1>\(HTMLPage.escape(RunVerdict.sentence(dryRun: newestReal.dryRun, totals: newestReal.totals, problems: newestReal.errors)))</h1>"
        let failedRuns = runs.filter { $0.outcome == .failed }.count
        let deferredRuns = runs.filter { $0.outcome == .deferred }.count
        body += #"<p class="meta">\#(RunVerdict.count(runs.count, "run")) kept here: \#(failedRuns) failed, \#(deferredRuns) deferred, "#
        body += "\(runs.filter { $0.outcome == .ok }.count) ok, \(runs.filter(\.dryRun).count) dry.</p></header>\n"

        let trend = Array(runs.prefix(trendRuns).reversed())
        body += #"<h2 id="trend">Deliveries per run</h2>"#
        body += #"<div class="legend"><span class="sw s2"></span>delivered <span class="sw s4"></span>failed <span class="sw s5"></span>deferred "#
        body += #"<span class="sw dry"></span>routed in a dry run — the last \#(trend.count) runs, oldest on the left; delivered above the line, failed and deferred below, each on its own scale.</div>"#
        body += HTMLChart.trend(trend) + "\n"

        body += #"<h2 id="runs">Runs</h2><div class="scroll"><table class="cards"><thead><tr><th>Run</th><th>Outcome</th><th>Started</th><th class="n">Took</th>"#
        body += #"<th class="n">Files</th><th class="n">Events</th><th class="n">Delivered</th><th class="n">Failed</th><th class="n">Deferred</th>"#
        body += #"<th class="n">Invalid lines</th><th>JSON</th></tr></thead><tbody>"#
        body += "\n"
        for run in runs {
            let id = HTMLPage.escape(run.runID)
            let linkable = ReportWriter.isLinkableRunID(run.runID)
            body += #"<tr><td class="wrap" data-label="Run">\#(linkable ? #"<a href="run-\#(run.runID).html">\#(id)</a>"# : id)</td>"#
            body += #"<td data-label="Outcome"><span class="\#(run.outcome.rawValue)"><span class="badge">\#(run.outcome.label)</span></span>"#
            if run.errors > 0 { body += #" <span class="meta">\#(RunVerdict.count(run.errors, "problem"))</span>"# }
            body += "</td>"
            body += #"<td data-label="Started">\#(HTMLPage.escape(run.startedAt))</td>"#
            body += #"<td class="n opt" data-label="Took">\#(HTMLPage.duration(ms: run.durationMs))</td>"#
            body += HTMLReport.count(run.totals.files, label: "Files", extra: "opt")
            body += HTMLReport.count(run.totals.events, label: "Events", extra: "opt")
            body += HTMLReport.count(run.totals.delivered, label: "Delivered")
            body += HTMLReport.count(run.totals.failed, label: "Failed", heat: "hot")
            body += HTMLReport.count(run.totals.deferred, label: "Deferred", heat: "lukewarm")
            body += HTMLReport.count(run.totals.invalidLines, label: "Invalid lines", heat: "hot")
            body += #"<td class="opt" data-label="JSON">\#(linkable ? #"<a href="run-\#(run.runID).json">json</a>"# : "—")</td></tr>"#
            body += "\n"
        }
        body += "</tbody></table></div>\n"
        body += #"<p class="note">Older runs are pruned: <code>report.keep</code> in the config says how many to keep (default \#(ReportWriter.defaultKeep)). <code>runs.json</code> holds these figures for scripts.</p>"#
        body += "\n"
        return HTMLPage.document(title: "hookspool runs", body: body)
    }
}
