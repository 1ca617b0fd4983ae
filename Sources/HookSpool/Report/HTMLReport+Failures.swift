import Foundation

extension HTMLReport {
    /// Up to this many failed deliveries are shown as one flat table; more are grouped by endpoint and cause.
    static let flatFailureLimit = 25
    /// Most failure rows shown in all groups together; the JSON report lists every one.
    static let failureRowCap = 200
    /// Most rows shown per group.
    static let groupRowCap = 20
    /// Most invalid lines shown.
    static let invalidRowCap = 200
    /// Response excerpts are cut to this many characters on the page (the JSON keeps the whole excerpt).
    static let excerptLimit = 300

    /// Failed deliveries sharing an endpoint and a cause.
    struct FailureGroup {
        var endpoint: String
        var cause: String
        var rows: [RunReport.FailureRow] = []
        var files: Set<String> = []
    }

    /// Why a delivery failed, as the page groups it: `HTTP 410 · rejected`, `timeout`.
    static func cause(of row: RunReport.FailureRow) -> String {
        if let status = row.lastStatus {
            return "HTTP \(status)" + (row.lastError.map { " · \($0)" } ?? "")
        }
        return row.lastError ?? "unknown"
    }

    /// The failed deliveries with the most frequent endpoint and cause first.
    static func groups(_ rows: [RunReport.FailureRow]) -> [FailureGroup] {
        var groups: [FailureGroup] = []
        var position: [String: Int] = [:]
        for row in rows {
            let endpoint = row.endpoint ?? ""
            let cause = cause(of: row)
            let key = "\(endpoint)\u{0}\(cause)"
            let index: Int
            if let known = position[key] {
                index = known
            } else {
                index = groups.count
                position[key] = index
                groups.append(FailureGroup(endpoint: endpoint, cause: cause))
            }
            groups[index].rows.append(row)
            groups[index].files.insert(row.file)
        }
        return groups.enumerated()
            .sorted { ($1.element.rows.count, $0.offset) < ($0.element.rows.count, $1.offset) }
            .map(\.element)
    }

    static func failures(_ report: RunReport) -> String {
        let rows = report.failures.filter { $0.endpoint != nil }
        var html = #"<h2 id="failures">Failed deliveries</h2>"#
        guard !rows.isEmpty else {
            if report.totals.failed > 0 {
                return html + #"<p>\#(report.totals.failed) deliveries failed; they are past the report's cap and listed only in the spool's <code>failed/NAME.failures.ndjson</code> files.</p>"# + "\n"
            }
            return html + (report.dryRun ? "<p>None: a dry run sends nothing.</p>\n" : "<p>None.</p>\n")
        }
        var shown = 0
        if rows.count <= flatFailureLimit {
            html += failureTable(rows)
            shown = rows.count
        } else {
            let groups = groups(rows)
            html += #"<p>\#(rows.count) failed deliveries, grouped by endpoint and cause, largest group first.</p>"#
            html += #"<div class="scroll"><table class="cards"><thead><tr><th>Endpoint</th><th>Cause</th><th class="n">Failures</th><th class="n">Files</th><th>First event</th></tr></thead><tbody>"#
            html += "\n"
            for (index, group) in groups.enumerated() {
                html += ##"<tr><td data-label="Endpoint"><a href="#fg-\##(index + 1)">\##(HTMLPage.escape(group.endpoint))</a></td>"##
                html += #"<td data-label="Cause">\#(HTMLPage.escape(group.cause))</td>"#
                html += count(group.rows.count, label: "Failures", heat: "hot")
                html += count(group.files.count, label: "Files")
                let first = group.rows[0]
                html += #"<td class="wrap" data-label="First event">\#(HTMLPage.escape(first.eventID ?? "—")) <span class="meta">(\#(HTMLPage.escape(first.file)):\#(first.line))</span></td></tr>"#
                html += "\n"
            }
            html += "</tbody></table></div>\n"
            for (index, group) in groups.enumerated() {
                let budget = min(groupRowCap, failureRowCap - shown)
                html += #"<h3 id="fg-\#(index + 1)">\#(HTMLPage.escape(group.endpoint)) — \#(HTMLPage.escape(group.cause)) (\#(group.rows.count))</h3>"#
                if budget > 0 {
                    html += failureTable(Array(group.rows.prefix(budget)))
                    shown += min(budget, group.rows.count)
                }
                if group.rows.count > max(budget, 0) {
                    html += #"<p class="note">\#(group.rows.count - max(budget, 0)) more in this group are not shown here.</p>"#
                    html += "\n"
                }
            }
        }
        let notShown = report.totals.failed - shown
        if notShown > 0 {
            var note = "Showing \(shown) of \(report.totals.failed) failed deliveries. "
            let inJSON = rows.count
            if inJSON > shown { note += "All \(inJSON) listed failures are in \(jsonName(report)). " }
            if report.failuresOmitted > 0 {
                note += "\(report.failuresOmitted) further failures (deliveries or invalid lines) were over the report's cap and are only in the spool's <code>failed/NAME.failures.ndjson</code> files."
            }
            html += #"<p class="note">\#(note)</p>"# + "\n"
        }
        return html
    }

    /// A table of failed deliveries, one row each.
    static func failureTable(_ rows: [RunReport.FailureRow]) -> String {
        var html = #"<div class="scroll"><table class="cards"><thead><tr><th>File:line</th><th>Event</th><th>Type</th><th>Endpoint</th>"#
        html += #"<th class="n">Attempts</th><th>Last status or error</th><th>Response</th></tr></thead><tbody>"#
        html += "\n"
        for row in rows {
            html += #"<tr><td class="wrap" data-label="File:line">\#(HTMLPage.escape(row.file)):\#(row.line)</td>"#
            html += #"<td class="wrap" data-label="Event"><code>\#(HTMLPage.escape(row.eventID ?? "—"))</code></td>"#
            html += #"<td class="wrap" data-label="Type">\#(HTMLPage.escape(row.eventType ?? "—"))</td>"#
            html += #"<td data-label="Endpoint">\#(HTMLPage.escape(row.endpoint ?? "—"))</td>"#
            html += #"<td class="n" data-label="Attempts">\#(row.attempts)</td>"#
            var last = row.lastStatus.map { "<strong>\($0)</strong>" } ?? ""
            if let error = row.lastError { last += (last.isEmpty ? "" : " ") + HTMLPage.escape(error) }
            html += #"<td data-label="Last status or error">\#(last.isEmpty ? "—" : last)</td>"#
            let excerpt = row.responseExcerpt.flatMap { $0.isEmpty ? nil : $0 }
            html += #"<td data-label="Response">\#(excerpt.map { "<code>\(HTMLPage.excerpt($0, limit: excerptLimit))</code>" } ?? "—")</td></tr>"#
            html += "\n"
        }
        return html + "</tbody></table></div>\n"
    }

    static func invalidLines(_ report: RunReport) -> String {
        guard report.totals.invalidLines > 0 else { return "" }
        let rows = report.failures.filter { $0.endpoint == nil }
        var html = #"<h2 id="invalid">Invalid lines</h2>"#
        html += "<p>These lines were not events; the rest of each file went on. Each file holding one went to <code>failed/</code>, with the reasons in <code>NAME.failures.ndjson</code> beside it.</p>\n"
        let shown = rows.prefix(invalidRowCap)
        if !shown.isEmpty {
            html += #"<div class="scroll"><table class="cards"><thead><tr><th>File:line</th><th>Reason</th></tr></thead><tbody>"#
            html += "\n"
            for row in shown {
                html += #"<tr><td class="wrap" data-label="File:line">\#(HTMLPage.escape(row.file)):\#(row.line)</td>"#
                html += #"<td class="wrap" data-label="Reason">\#(HTMLPage.escape(row.lastError ?? "—"))</td></tr>"#
                html += "\n"
            }
            html += "</tbody></table></div>\n"
        }
        if report.totals.invalidLines > shown.count {
            html += #"<p class="note">Showing \#(shown.count) of \#(report.totals.invalidLines) invalid lines; the rest are in \#(jsonName(report)) or, past its cap, in the spool's failures files.</p>"#
            html += "\n"
        }
        return html
    }
}
