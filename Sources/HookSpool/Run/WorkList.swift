import Logging

/// A file this run will work on.
enum WorkItem: Sendable {
    /// In `processing/` already: its run stopped.
    case resume(ClaimedFile)
    /// In `incoming/` or due in `deferred/`: to be claimed.
    case claim(SpoolEntry)
    /// Read in place by a dry run.
    case dryRun(SpoolEntry)
}

/// Lists a run's work: files whose run died first, then deferred files that are due, then new
/// ones (oldest first); in a dry run, the new ones only. Refused names are reported here.
enum WorkList {
    /// The files to work on, in order; nil when the spool cannot be used (recorded in the ledger).
    static func plan(_ context: RunContext) -> [WorkItem]? {
        let spool = context.spool
        let logger = context.logger
        do {
            try spool.prepare()
            if context.dryRun {
                let listing = try spool.readyFiles()
                context.refuse(listing.refused)
                return listing.ready.map { .dryRun($0) }
            }
            let orphans = try spool.orphans { problem in
                context.ledger.refusedInProcessing(problem)
                logger.error("a file in processing/ cannot be resumed; it stays there", metadata: ["error": "\(problem)"])
            }
            for file in orphans {
                logger.notice("resuming a file whose run stopped", metadata: ["hookspool.file": "\(file.name)"])
            }
            var work: [WorkItem] = orphans.map { .resume($0) }
            let deferred = try spool.dueDeferred(now: context.clock.unixSeconds)
            work += inFifoOrder(deferred.due, context).map { .claim($0) }
            let listing = try spool.readyFiles()
            for name in listing.ignored {
                logger.warning("ignoring a file that is not .ndjson or .jsonl", metadata: ["hookspool.file": "incoming/\(name)"])
            }
            context.refuse(listing.refused)
            work += listing.ready.map { .claim($0) }
            return work
        } catch {
            context.ioError("spool folder unusable: \(error)", log: "spool folder unusable", error: error)
            return nil
        }
    }

    /// Due files in the order of the fifo endpoints' line (the same for all of them: the claim
    /// order), so a file held behind another is taken after it in the same run; files not in
    /// line keep their place after those that are.
    private static func inFifoOrder(_ due: [SpoolEntry], _ context: RunContext) -> [SpoolEntry] {
        guard due.count > 1, let fifo = context.config.endpoints.first(where: { $0.ordering == .fifo }),
            let line = try? FifoQueue(spool: context.spool, endpoint: fifo.name).files(), !line.isEmpty
        else { return due }
        var rank: [String: Int] = [:]
        for (index, name) in line.enumerated() where rank[name] == nil { rank[name] = index }
        let ranked = due.enumerated().map { (rank: rank[$0.element.name] ?? Int.max, position: $0.offset, entry: $0.element) }
        return ranked.sorted { ($0.rank, $0.position) < ($1.rank, $1.position) }.map(\.entry)
    }
}
