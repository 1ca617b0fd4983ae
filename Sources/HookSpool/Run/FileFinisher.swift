import Logging
import NIOCore
import NIOPosix

/// Moves a file whose every delivery finished (or was left for later) to `done/`, `failed/` or
/// `deferred/` (due by the deferral schedule), and records its row.
///
/// The blocking part (the journal's last fsync, the moves) runs on a thread-pool thread; the
/// folders' fsyncs are shared with the files finishing at the same time.
struct FileFinisher: Sendable {
    let context: RunContext
    let schedule: DeferralSchedule
    /// The run's fifo endpoints, whose lines follow a file moved under another name.
    var fifo: [FifoLane] = []

    func finish(_ file: FileTask) async {
        let outcome = file.outcome
        var movedTo: String?
        if let claimed = file.claimed {
            movedTo = await move(file, claimed, outcome: outcome)
            claimed.release()
        }
        let summary = file.summary(outcome: outcome, movedTo: movedTo)
        context.ledger.fileFinished(summary)
        context.logger.log(
            level: outcome == .done ? .info : .warning,
            "file finished",
            metadata: [
                "hookspool.file": "\(file.name)", "outcome": "\(outcome.rawValue)", "events": "\(summary.events)",
                "delivered": "\(summary.delivered)", "failed": "\(summary.failed)", "deferred": "\(summary.deferred)",
                "invalid_lines": "\(summary.invalidLines)", "moved_to": "\(movedTo ?? "-")",
            ]
        )
    }

    /// Moves the file out of `processing/`; where to, or nil when it could not be moved (a later run resumes it).
    private func move(_ file: FileTask, _ claimed: ClaimedFile, outcome: FileOutcome) async -> String? {
        let spool = context.spool
        do {
            var nextAttempt: Int64?
            if outcome == .deferred {
                var random = SystemRandomNumberGenerator()
                let next = schedule.next(
                    now: context.clock.unixSeconds, deferrals: file.resume.deferrals, interruptedOnly: file.wasInterruptedOnly, notBefore: file.notBefore ?? file.heldUntil,
                    using: &random
                )
                if let count = next.count { file.journal?.fileDeferred(count: count, next: next.due) }
                nextAttempt = next.due
            }
            let next = nextAttempt
            let runID = context.runID
            // Through a future, not the async `runIfActive`, which skips the work when the task
            // is cancelled (a forced stop): a file whose deliveries all ended is always moved.
            let moved = try await NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.any()) { () throws -> String in
                try file.journal?.close()
                try file.closeFailures()
                return try spool.finish(claimed, outcome: outcome, runID: runID, nextAttempt: next, syncFolders: false)
            }.get()
            // At once: the line must name the file as it is now called (a kill before this is
            // mended by the line itself, which follows a head to its `deferred/` name).
            let movedName = FileSystem.basename(of: moved)
            if movedName != file.name {
                for lane in fifo { lane.moved(file.name, to: movedName) }
            }
            do {
                try await context.syncer.sync(spool.folder(for: outcome))
                try await context.syncer.sync(spool.processing)
            } catch {
                context.ledger.error("moved \(file.name) to \(moved) but could not make the move durable: \(error)", io: true)
                context.logger.error(
                    "cannot make a finished file's move durable", metadata: ["hookspool.file": "\(file.name)", "moved_to": "\(moved)", "error": "\(error)"]
                )
            }
            return moved
        } catch {
            context.ioError(
                "cannot move \(file.name) out of processing/: \(error); a later run resumes it", log: "cannot move a finished file; a later run resumes it",
                file: file.name, error: error
            )
            return nil
        }
    }
}
