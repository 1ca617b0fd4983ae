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
    /// The run's fifo endpoints: each file is put in their line before it is claimed.
    private let fifo: [FifoLane]
    /// The outcomes of claims made ahead, for the next `.claim` items in order.
    private var claimed = CircularBuffer<Result<ClaimResult, FileSystemError>>()
    /// The position after the last item claimed ahead.
    private var claimedUpTo = 0

    init(work: [WorkItem], spool: Spool, fifo: [FifoLane] = []) {
        self.work = work
        self.spool = spool
        self.fifo = fifo
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
            // In line first: a run that claims a later file meanwhile finds these ahead of it.
            let names = entries.map(\.name)
            let added = fifo.map { $0.add(names) }
            // A line names files by name: a new file in `incoming/` whose name is listed for an
            // older file of that name still in the spool waits in `incoming/` until that one has
            // left every line, as does one so named after this run gave turns in the older one.
            let waits = names.indices.filter { index in
                let entry = entries[index]
                guard entry.folder == .incoming else { return false }
                return zip(fifo, added).contains { lane, added in
                    lane.knows(entry.name) || (!added.contains(entry.name) && spool.holdsOther(named: entry.name))
                }
            }
            var claiming = entries
            for index in waits.reversed() { claiming.remove(at: index) }
            var results = spool.claim(batch: claiming)[...]
            var outcomes: [Result<ClaimResult, FileSystemError>] = []
            for (index, entry) in entries.enumerated() {
                if waits.contains(index) {
                    outcomes.append(.success(.nameBusy))
                    continue
                }
                guard let result = results.popFirst() else { break }
                // Left where it is for good: out of the lines it was just put in, or it would hold the endpoint forever.
                if case .success(.refused) = result {
                    for (lane, added) in zip(fifo, added) where added.contains(entry.name) { lane.drop(entry.name) }
                }
                outcomes.append(result)
            }
            claimed.append(contentsOf: outcomes)
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
