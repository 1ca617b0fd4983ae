import Foundation

/// Small inline SVG charts for the report pages; colours come from the page's stylesheet classes,
/// so dark mode and print apply to them too. Every chart carries a text title for screen readers.
enum HTMLChart {
    /// The stylesheet class for a `status_codes` key: `s2` success, `s3` redirect, `s4` rejected,
    /// `s5` retryable answer (408, 425, 429, 5xx), `net` no HTTP answer.
    static func statusClass(_ key: String) -> String {
        guard let code = Int(key) else { return "net" }
        switch code {
        case 200...299: return "s2"
        case 408, 425, 429, 500...599: return "s5"
        case 400...499: return "s4"
        default: return "s3"
        }
    }

    /// `status_codes` in reading order: successes, redirects, rejections, retryable answers, then failures without an answer.
    static func orderedStatuses(_ codes: [String: Int]) -> [(key: String, count: Int)] {
        let rank = ["s2": 0, "s3": 1, "s4": 2, "s5": 3, "net": 4]
        return codes.map { (key: $0.key, count: $0.value) }.sorted {
            (rank[statusClass($0.key)] ?? 5, $0.key) < (rank[statusClass($1.key)] ?? 5, $1.key)
        }
    }

    /// A horizontal bar split by share, with a legend under it; empty when every count is zero.
    ///
    /// - Parameter segments: label, count and stylesheet class, in drawing order. Labels are escaped here.
    static func shareBar(_ segments: [(label: String, count: Int, css: String)], summary: String, cssClass: String) -> String {
        let total = segments.reduce(0) { $0 + $1.count }
        guard total > 0 else { return "" }
        var svg = #"<svg class="chart \#(cssClass)" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="\#(HTMLPage.escape(summary))">"#
        svg += "<title>\(HTMLPage.escape(summary))</title>"
        var x = 0.0
        for segment in segments where segment.count > 0 {
            // Every non-zero share stays visible, however small.
            let width = max(Double(segment.count) * 100 / Double(total), 0.8)
            svg += #"<rect class="\#(segment.css)" x="\#(format(x))" y="0" width="\#(format(min(width, 100 - x)))" height="10">"#
            svg += "<title>\(HTMLPage.escape(segment.label)): \(segment.count)</title></rect>"
            x = min(x + width, 100)
        }
        svg += "</svg>"
        var legend = #"<div class="legend">"#
        for segment in segments where segment.count > 0 {
            legend += #"<span class="sw \#(segment.css)"></span>\#(HTMLPage.escape(segment.label)) ×\#(HTMLPage.number(segment.count)) "#
        }
        legend += "</div>"
        return svg + legend
    }

    /// An endpoint's attempts by status code or failure name.
    static func statusMix(_ codes: [String: Int]) -> String {
        let ordered = orderedStatuses(codes)
        let summary = "Attempts by answer: " + ordered.map { "\($0.key) ×\($0.count)" }.joined(separator: ", ")
        return shareBar(ordered.map { (label: $0.key, count: $0.count, css: statusClass($0.key)) }, summary: summary, cssClass: "mix")
    }

    /// Where p50, p90, p99 and max fall on a log scale from 1 ms to `scaleMax` ms, shared by every endpoint of the run.
    static func latency(_ latency: RunReport.Latency, scaleMax: Double) -> String {
        guard let p50 = latency.p50, let maximum = latency.max else { return "" }
        let p90 = latency.p90 ?? p50
        let p99 = latency.p99 ?? p90
        let width = 120.0
        func x(_ ms: Double) -> Double {
            let top = log10(max(scaleMax, 10))
            return min(max(log10(max(ms, 1)) / top, 0), 1) * width
        }
        let summary = "Latency p50 \(HTMLPage.milliseconds(p50)), p90 \(HTMLPage.milliseconds(p90)), p99 \(HTMLPage.milliseconds(p99)), "
            + "max \(HTMLPage.milliseconds(maximum)); log scale from 1 ms to \(HTMLPage.milliseconds(scaleMax))"
        var svg = #"<svg class="chart lat" viewBox="0 0 \#(format(width)) 14" role="img" aria-label="\#(HTMLPage.escape(summary))">"#
        svg += "<title>\(HTMLPage.escape(summary))</title>"
        svg += #"<rect class="track" x="0" y="6" width="\#(format(width))" height="2"/>"#
        svg += #"<rect class="lat1" x="0" y="3" width="\#(format(max(x(p50), 0.8)))" height="8"/>"#
        if x(p90) > x(p50) { svg += #"<rect class="lat2" x="\#(format(x(p50)))" y="3" width="\#(format(x(p90) - x(p50)))" height="8"/>"# }
        if x(p99) > x(p90) { svg += #"<rect class="lat3" x="\#(format(x(p90)))" y="3" width="\#(format(x(p99) - x(p90)))" height="8"/>"# }
        svg += #"<rect class="tick" x="\#(format(min(x(maximum), width - 1)))" y="0" width="1" height="14"/>"#
        svg += "</svg>"
        return svg
    }

    /// The smallest power of ten at or above every endpoint's max latency (at least 10 ms).
    static func latencyScale(_ endpoints: [RunReport.EndpointSummary]) -> Double {
        let slowest = endpoints.compactMap(\.latencyMs.max).max() ?? 10
        var scale = 10.0
        while scale < slowest { scale *= 10 }
        return scale
    }

    /// Delivered (up) and failed plus deferred (down) per run, oldest on the left; each half has its own scale.
    static func trend(_ runs: [RunIndex.Entry]) -> String {
        guard !runs.isEmpty else { return "" }
        let slots = max(runs.count, 20)
        let slot = 10.0
        let width = Double(slots) * slot
        let half = 40.0
        let axis = half + 2
        let upPeak = runs.map { $0.dryRun ? $0.totals.deliveries : $0.totals.delivered }.max() ?? 0
        let upMax = max(upPeak, 1)
        let downPeak = runs.map { $0.dryRun ? 0 : $0.totals.failed + $0.totals.deferred }.max() ?? 0
        let downMax = max(downPeak, 1)
        let summary = "Delivered (up, at most \(upPeak)) and failed or deferred (down, at most \(downPeak)) in the last \(runs.count) runs, oldest first"
        var svg = #"<svg class="chart trend" viewBox="0 0 \#(format(width)) \#(format(2 * half + 4))" preserveAspectRatio="none" role="img" aria-label="\#(HTMLPage.escape(summary))">"#
        svg += "<title>\(HTMLPage.escape(summary))</title>"
        svg += #"<rect class="track" x="0" y="\#(format(axis - 0.5))" width="\#(format(width))" height="1"/>"#
        for (offset, run) in runs.enumerated() {
            let x = Double(slots - runs.count + offset) * slot + 1.5
            let label = "\(run.runID) (\(run.outcome.label)): \(run.totals.delivered) delivered, \(run.totals.failed) failed, \(run.totals.deferred) deferred"
            svg += "<g><title>\(HTMLPage.escape(label))</title>"
            let up = run.dryRun ? run.totals.deliveries : run.totals.delivered
            if up > 0 {
                let height = max(Double(up) / Double(upMax) * half, 1)
                svg += #"<rect class="\#(run.dryRun ? "dry" : "ok")" x="\#(format(x))" y="\#(format(axis - 1 - height))" width="7" height="\#(format(height))"/>"#
            }
            var y = axis + 1
            for (count, css) in [(run.totals.failed, "bad"), (run.totals.deferred, "warn")] where count > 0 && !run.dryRun {
                let height = max(Double(count) / Double(downMax) * half, 1)
                svg += #"<rect class="\#(css)" x="\#(format(x))" y="\#(format(y))" width="7" height="\#(format(height))"/>"#
                y += height
            }
            svg += "</g>"
        }
        svg += "</svg>"
        return svg
    }

    /// A coordinate with at most two decimals.
    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : HTMLPage.fixed(rounded, decimals: 2)
    }
}
