import Logging

extension BatchRun.Outcome {
    /// The figures of the one summary line a run logs (`run finished`): totals, duration, the report's path, the exit code.
    public var summaryMetadata: Logger.Metadata {
        let totals = report.totals
        return [
            "hookspool.run": "\(report.runID)",
            "files": "\(totals.files)", "events": "\(totals.events)", "deliveries": "\(totals.deliveries)",
            "delivered": "\(totals.delivered)", "failed": "\(totals.failed)", "deferred": "\(totals.deferred)",
            "invalid_lines": "\(totals.invalidLines)", "unrouted": "\(totals.unrouted)", "attempts": "\(totals.attempts)",
            "duration_ms": "\(report.durationMs)", "report": "\(reportFiles?.html ?? "none")", "exit": "\(exitStatus.rawValue)",
        ]
    }

    /// The level of the summary line: `notice`, above the per-file lines, so `--log-level notice` keeps only it and warnings.
    public static let summaryLevel: Logger.Level = .notice

    /// The summary line's message.
    public static let summaryMessage: Logger.Message = "run finished"
}
