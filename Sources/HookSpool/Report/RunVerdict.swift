/// What a run came to, at a glance: the word on a report's headline and in the runs index.
public enum RunVerdict: String, Sendable, Codable, CaseIterable {
    /// Everything routed was delivered (or there was nothing to do).
    case ok
    /// Nothing failed for good, but some deliveries were left for a later run.
    case deferred
    /// Some delivery failed for good, some line was invalid, or a problem stopped part of the run.
    case failed
    /// Routed and signed only; nothing was sent or moved.
    case dryRun = "dry_run"

    /// The verdict for a run's totals; `problems` counts the report's `errors`.
    public init(dryRun: Bool, totals: RunReport.Totals, problems: Int) {
        if dryRun {
            self = .dryRun
        } else if problems > 0 || totals.failed > 0 || totals.invalidLines > 0 {
            self = .failed
        } else if totals.deferred > 0 || totals.filesDeferred > 0 {
            self = .deferred
        } else {
            self = .ok
        }
    }

    /// The verdict of a whole report.
    public init(_ report: RunReport) {
        self.init(dryRun: report.dryRun, totals: report.totals, problems: report.errors.count)
    }

    /// The word a person reads: `ok`, `deferred`, `failed`, `dry run`.
    public var label: String {
        self == .dryRun ? "dry run" : rawValue
    }

    /// One sentence saying what happened, for the headline.
    public static func sentence(dryRun: Bool, totals t: RunReport.Totals, problems: Int) -> String {
        let verdict = RunVerdict(dryRun: dryRun, totals: t, problems: problems)
        switch verdict {
        case .dryRun:
            var parts = ["Dry run: \(count(t.deliveries, "delivery", "deliveries")) routed from \(count(t.events, "event")); nothing was sent or moved"]
            if t.invalidLines > 0 { parts.append(count(t.invalidLines, "invalid line")) }
            return parts.joined(separator: "; ")
        case .failed:
            var parts: [String] = []
            if t.failed > 0 { parts.append("\(t.failed) of \(count(t.deliveries, "delivery", "deliveries")) failed for good") }
            if t.invalidLines > 0 { parts.append(count(t.invalidLines, "invalid line")) }
            if problems > 0 { parts.append(problems == 1 ? "a problem stopped part of the run" : "\(problems) problems stopped parts of the run") }
            if t.deferred > 0 { parts.append("\(t.deferred) deferred") }
            return parts.joined(separator: "; ")
        case .deferred:
            return "\(count(t.deferred, "delivery", "deliveries")) deferred to a later run; \(t.delivered) delivered, none failed"
        case .ok:
            if t.files == 0 { return "Nothing to do: no spool file was ready" }
            if t.deliveries == 0 { return "\(count(t.files, "file")) read; no delivery was due" }
            return t.deliveries == 1 ? "The one delivery succeeded" : "All \(t.deliveries) deliveries succeeded"
        }
    }

    /// `1 file`, `3 files`.
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) \(n == 1 ? singular : plural ?? singular + "s")"
    }
}
