import Foundation
import Logging

extension BatchRun {
    /// Writes `metrics.textfile` for a finished run (never for a dry run); false, logged, when it cannot be written.
    ///
    /// `status` is the exit status the run ends with if the write succeeds; `hookspool_last_success_timestamp_seconds`
    /// becomes `finished` when it is 0, and otherwise keeps the value of the previous file, as the counters add to it.
    func writeMetrics(_ report: RunReport, status: ExitStatus, finished: Date, ledger: Ledger, logger: Logger) -> Bool {
        guard !dryRun, let path = config.metricsTextfile else { return true }
        let textfile = MetricsTextfile(path: path)
        let finishedAt = (finished.timeIntervalSince1970 * 1000).rounded() / 1000
        let input = MetricsTextfile.Input(
            report: report,
            latency: ledger.latencyHistograms(),
            backlog: nil,
            exitStatus: status,
            finishedAt: finishedAt
        )
        do {
            try textfile.update(input) { SpoolBacklog.measure(Spool(root: config.spoolDirectory)) }
            return true
        } catch {
            logger.error("cannot write the metrics textfile", metadata: ["hookspool.metrics": "\(path)", "error": "\(error)"])
            return false
        }
    }
}
