import Logging

/// What every part of one run shares: its settings, its spool, its clock, where outcomes are
/// counted and where it logs.
struct RunContext: Sendable {
    let config: Config
    /// Route and sign, but send nothing and move nothing.
    let dryRun: Bool
    let runID: String
    let spool: Spool
    let clock: any RunClock
    let control: RunControl
    let ledger: Ledger
    let logger: Logger
    /// Shares the folder fsyncs of files finishing at the same time.
    let syncer = FolderSyncer()

    /// Reports names in `incoming/` that are not spool files; they stay where they are.
    func refuse(_ entries: [RefusedEntry]) {
        for entry in entries {
            // One log line each for as many as the report lists; then a count, at the end of the run.
            if ledger.refused(entry) {
                logger.error(
                    "refusing a file in incoming/ that is not a spool file; left where it is, never read",
                    metadata: ["hookspool.file": "incoming/\(entry.name)", "reason": "\(entry.reason)"]
                )
            }
        }
    }

    /// Records and logs trouble with the spool or a file in it (the run exits 74).
    func ioError(_ message: String, log: Logger.Message, file: String? = nil, error: any Error) {
        ledger.error(message, io: true)
        var metadata: Logger.Metadata = ["error": "\(error)"]
        if let file { metadata["hookspool.file"] = "\(file)" }
        logger.error(log, metadata: metadata)
    }
}
