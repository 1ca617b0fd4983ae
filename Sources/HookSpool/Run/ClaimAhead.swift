import NIOCore

/// Claims the run's files a batch at a time, just before they are read, so that the batch shares
/// its folder fsyncs; small files only share a batch, so claims made ahead never hide much work
/// from runs started meanwhile.
struct ClaimAhead {
    /// Files claimed together: at most this many, of at most `batchBytes` together.
    static let batch = 16
    static let batchBytes: Int64 = 1 << 20

    private let work: [WorkItem]
    private let spool: Spool
    /// The outcomes of claims made ahead, for the next `.claim` items in order.
    private var claimed = CircularBuffer<Result<ClaimResult, FileSystemError>>()
    /// The position after the last item claimed ahead.
    private var claimedUpTo = 0

    init(work: [WorkItem], spool: Spool) {
        self.work = work
        self.spool = spool
    }

    /// The outcome of claiming the `.claim` item at `position`, claiming the next batch when none is left.
    mutating func claim(at position: Int) -> Result<ClaimResult, FileSystemError>? {
        if claimed.isEmpty {
            var entries: [SpoolEntry] = []
            var next = max(position, claimedUpTo)
            var bytes: Int64 = 0
            while next < work.count, entries.count < Self.batch, case .claim(let entry) = work[next], entries.isEmpty || entry.size <= Self.batchBytes - bytes {
                entries.append(entry)
                bytes += entry.size
                next += 1
            }
            claimed.append(contentsOf: spool.claim(batch: entries))
            claimedUpTo = next
        }
        return claimed.popFirst()
    }

    /// The run is stopping before `item` started: its claim (made ahead, or a resumed file's) is
    /// released, and the file stays in `processing/` for a later run.
    mutating func release(unstarted item: WorkItem) {
        switch item {
        case .resume(let file):
            file.release()
        case .claim:
            if !claimed.isEmpty, case .success(.claimed(let file)) = claimed.removeFirst() { file.release() }
        case .dryRun:
            break
        }
    }
}
