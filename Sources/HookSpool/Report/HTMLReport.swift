import Foundation

/// Renders a run report as one self-contained HTML page (inline CSS, nothing fetched).
enum HTMLReport {
    static func render(_ report: RunReport) -> String {
        let t = report.totals
        let state: (word: String, css: String)
        if report.dryRun {
            state = ("dry run", "dry")
        } else if !report.errors.isEmpty || t.failed > 0 || t.invalidLines > 0 {
            state = ("failed", "bad")
        } else if t.deferred > 0 {
            state = ("deferred", "warn")
        } else {
            state = ("ok", "ok")
        }
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>hookspool run \(escape(report.runID)) — \(state.word)</title>
            <style>\(css)</style></head><body>
            <h1><span class="badge \(state.css)">\(state.word)</span> hookspool run \(escape(report.runID))</h1>
            <p class="meta">Started \(escape(report.startedAt)), finished \(escape(report.finishedAt)) (\(report.durationMs) ms)\(report.dryRun ? " — dry run: nothing was sent or moved" : "").</p>
            <table class="totals"><tbody>
            <tr><th>Files</th><td>\(t.files)</td><th>Done</th><td>\(t.filesDone)</td><th>Failed</th><td>\(t.filesFailed)</td></tr>
            <tr><th>Events</th><td>\(t.events)</td><th>Invalid lines</th><td>\(t.invalidLines)</td><th>Unrouted</th><td>\(t.unrouted)</td></tr>
            <tr><th>Deliveries</th><td>\(t.deliveries)</td><th>Delivered</th><td>\(t.delivered)</td><th>Failed</th><td>\(t.failed)</td></tr>
            <tr><th>Attempts</th><td>\(t.attempts)</td><th>Retries</th><td>\(t.retries)</td><th>Deferred</th><td>\(t.deferred)</td></tr>
            </tbody></table>

            """
        if !report.errors.isEmpty {
            html += "<h2>Problems</h2><ul class=\"errors\">"
            for error in report.errors { html += "<li>\(escape(error))</li>" }
            html += "</ul>\n"
        }
        html += "<h2>Endpoints</h2>\n<table><thead><tr><th>Endpoint</th><th>URL</th><th>Delivered</th><th>Failed</th><th>Attempts</th><th>Status codes</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n"
        for endpoint in report.endpoints {
            let codes = endpoint.statusCodes.sorted { $0.key < $1.key }.map { "\(escape($0.key)): \($0.value)" }.joined(separator: ", ")
            html += "<tr><td>\(escape(endpoint.name))</td><td class=\"url\">\(escape(endpoint.url))</td><td>\(endpoint.delivered)</td><td>\(endpoint.failed)</td><td>\(endpoint.attempts)</td>"
            html += "<td>\(codes.isEmpty ? "—" : codes)</td><td>\(number(endpoint.latencyMs.p50))</td><td>\(number(endpoint.latencyMs.p90))</td><td>\(number(endpoint.latencyMs.p99))</td><td>\(number(endpoint.latencyMs.max))</td></tr>\n"
        }
        html += "</tbody></table>\n<h2>Files</h2>\n"
        if report.files.isEmpty {
            html += "<p>No files were ready.</p>\n"
        } else {
            html += "<table><thead><tr><th>File</th><th>Outcome</th><th>Events</th><th>Invalid lines</th><th>Delivered</th><th>Failed</th><th>Moved to</th></tr></thead><tbody>\n"
            for file in report.files {
                html += "<tr><td>\(escape(file.name))</td><td class=\"\(file.outcome == .done ? "ok" : "bad")\">\(file.outcome.rawValue)</td><td>\(file.events)</td><td>\(file.invalidLines)</td>"
                html += "<td>\(file.delivered)</td><td>\(file.failed)</td><td>\(escape(file.movedTo ?? "—"))</td></tr>\n"
            }
            html += "</tbody></table>\n"
        }
        html += "<h2>Failures</h2>\n"
        if report.failures.isEmpty {
            html += "<p>None.</p>\n"
        } else {
            let shown = report.failures.prefix(500)
            html += "<table><thead><tr><th>File:line</th><th>Event</th><th>Type</th><th>Endpoint</th><th>Attempts</th><th>Last status</th><th>Error</th><th>Response</th></tr></thead><tbody>\n"
            for failure in shown {
                html += "<tr><td>\(escape(failure.file)):\(failure.line)</td><td>\(escape(failure.eventID ?? "—"))</td><td>\(escape(failure.eventType ?? "—"))</td>"
                html += "<td>\(escape(failure.endpoint ?? "—"))</td><td>\(failure.attempts)</td><td>\(failure.lastStatus.map(String.init) ?? "—")</td>"
                html += "<td>\(escape(failure.lastError ?? "—"))</td><td><code>\(escape(failure.responseExcerpt ?? ""))</code></td></tr>\n"
            }
            html += "</tbody></table>\n"
            let hidden = report.failures.count - shown.count + report.failuresOmitted
            if hidden > 0 {
                html += "<p>\(hidden) more failures are not shown here; see run-\(escape(report.runID)).json and the failures files in the spool's failed/ folder.</p>\n"
            }
        }
        html += "</body></html>\n"
        return html
    }

    static func renderIndex(runIDs: [String]) -> String {
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>hookspool runs</title><style>\(css)</style></head><body>
            <h1>hookspool runs</h1>
            <p><a href="latest.html">Latest run</a></p>
            <ul>

            """
        for id in runIDs {
            html += "<li><a href=\"run-\(escape(id)).html\">\(escape(id))</a> (<a href=\"run-\(escape(id)).json\">json</a>)</li>\n"
        }
        html += "</ul></body></html>\n"
        return html
    }

    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func number(_ value: Double?) -> String {
        guard let value else { return "—" }
        return String(format: "%.1f", value)
    }

    private static let css = """
        body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem;color:#1b1f23;background:#fff}
        h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
        table{border-collapse:collapse;margin:.5rem 0;max-width:100%;display:block;overflow-x:auto}
        th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
        thead th{background:#f6f8fa}
        .badge{display:inline-block;padding:.1rem .6rem;border-radius:1rem;color:#fff;font-size:1rem;text-transform:uppercase}
        .badge.ok{background:#1a7f37}.badge.bad{background:#cf222e}.badge.warn{background:#9a6700}.badge.dry{background:#57606a}
        td.ok{color:#1a7f37}td.bad{color:#cf222e}.url{word-break:break-all}.meta{color:#57606a}
        code{white-space:pre-wrap;word-break:break-all;font-size:12px}
        @media (prefers-color-scheme: dark){body{background:#0d1117;color:#e6edf3}thead th{background:#161b22}th,td{border-color:#30363d}}
        @media print{body{margin:0}.badge{color:#000;border:1px solid #000}}
        """
}
