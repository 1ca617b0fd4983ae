import Logging

/// Takes up a file for the run: the outcome of its claim, its journal read (a stale one set
/// aside) and opened for appending, its failures so far; nil when it is not this run's to work on.
enum FileOpener {
    static func open(_ item: WorkItem, claim: Result<ClaimResult, FileSystemError>?, context: RunContext) -> FileTask? {
        let claimed: ClaimedFile
        switch item {
        case .dryRun(let entry):
            return FileTask(name: entry.name, originalName: entry.name, claimed: nil, journal: nil, resume: Journal.State(), failuresPath: nil)
        case .resume(let file):
            claimed = file
        case .claim(let entry):
            guard let claim, let file = taken(entry, claim, context: context) else { return nil }
            claimed = file
        }
        let spool = context.spool
        do {
            let journalPath = "\(spool.processing)/\(Spool.journalName(for: claimed.name))"
            let identity = FileSystem.identity(of: claimed.descriptor)
            var state = try Journal.read(journalPath)
            if let recorded = state.identity, !FileSystem.sameIdentity(recorded: recorded, current: identity) {
                // Left behind by an earlier file of the same name (a crash between moves): not this file's.
                let aside = "\(journalPath).stale-\(context.runID)"
                _ = try FileSystem.moveNoReplace(journalPath, to: aside)
                context.logger.warning(
                    "set aside a journal that belongs to an earlier file of the same name", metadata: ["hookspool.file": "\(claimed.name)", "journal": "\(aside)"]
                )
                state = Journal.State()
            }
            let journal = try JournalWriter(path: journalPath, validLength: state.validLength, clock: context.clock)
            let originalName = state.originalName ?? claimed.name
            if state.originalName == nil { journal.header(originalName: originalName, identity: identity) }
            let file = FileTask(
                name: claimed.name, originalName: originalName, claimed: claimed, journal: journal, resume: state,
                failuresPath: "\(spool.processing)/\(Spool.pendingFailuresName(for: claimed.name))"
            )
            try file.startFailures()
            return file
        } catch {
            context.ioError(
                "cannot open the journal of \(claimed.name): \(error); it stays in processing/", log: "cannot open a journal; the file stays in processing/",
                file: claimed.name, error: error
            )
            claimed.release()
            return nil
        }
    }

    /// The file a claim took, or nil (logged) when it took none.
    private static func taken(_ entry: SpoolEntry, _ claim: Result<ClaimResult, FileSystemError>, context: RunContext) -> ClaimedFile? {
        do {
            switch try claim.get() {
            case .claimed(let file):
                return file
            case .alreadyClaimed:
                return nil
            case .nameBusy:
                context.logger.warning(
                    "a file of the same name is still in the spool (in processing/, or waiting for a fifo endpoint); leaving this one for a later run", metadata: ["hookspool.file": "\(entry.name)"]
                )
                return nil
            case .refused(let reason):
                // Swapped for something else since the listing.
                context.refuse([RefusedEntry(name: entry.name, reason: reason)])
                return nil
            }
        } catch {
            context.ioError("cannot claim \(entry.name): \(error)", log: "cannot claim a spool file", file: entry.name, error: error)
            return nil
        }
    }
}
