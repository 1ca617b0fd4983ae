#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Lists the files a run may take up: ready files in incoming/ and due files in deferred/.
extension Spool {
    /// The ready files in `incoming/`, oldest first (by modification time, then name); other names
    /// are returned as ignored, and ready names that are not regular files with one link (or whose
    /// name cannot be a spool file's) as refused: both are left where they are.
    public func readyFiles() throws(FileSystemError) -> (ready: [SpoolEntry], ignored: [String], refused: [RefusedEntry]) {
        var ready: [SpoolEntry] = []
        var ignored: [String] = []
        let listing = try FileSystem.listing(incoming)
        // A name that is not UTF-8 (shown with U+FFFD for its bad bytes) is judged like the others
        // first: a temporary or other name is no concern of the run's.
        var refused = listing.notUTF8.filter(Spool.isReadyName).map { RefusedEntry(name: $0, reason: .nameNotUTF8) }
        ignored += listing.notUTF8.filter { !Spool.isHidden($0) && !Spool.endsWith($0, ".tmp") && !Spool.isReadyName($0) }
        for name in listing.names {
            if Spool.isHidden(name) || Spool.endsWith(name, ".tmp") { continue }
            guard Spool.isReadyName(name) else {
                ignored.append(name)
                continue
            }
            if name.utf8.count > Spool.maxNameBytes {
                refused.append(RefusedEntry(name: name, reason: .nameTooLong(bytes: name.utf8.count)))
                continue
            }
            let path = "\(incoming)/\(name)"
            let inspected = FileSystem.inspectEntry(path, singleLink: true)
            if let refusal = inspected.refusal {
                refused.append(RefusedEntry(name: name, reason: refusal))
                continue
            }
            guard let info = FileSystem.regularFileInfo(path) else { continue }
            if info.size > maxFileBytes {
                refused.append(RefusedEntry(name: name, reason: .tooLarge(bytes: info.size, limit: maxFileBytes)))
                continue
            }
            ready.append(SpoolEntry(name: name, size: info.size, modified: info.modified, folder: .incoming))
        }
        ready.sort { ($0.modified.tv_sec, $0.modified.tv_nsec, $0.name) < ($1.modified.tv_sec, $1.modified.tv_nsec, $1.name) }
        return (ready, ignored.sorted(), refused.sorted { $0.name < $1.name })
    }

    /// Files in `deferred/` whose next attempt is due at `now` (unix seconds), earliest first.
    ///
    /// The next attempt time is the modification time of the file's journal, as Postfix keeps it on its queue files.
    public func dueDeferred(now: Int64) throws(FileSystemError) -> (due: [SpoolEntry], waiting: Int) {
        var due: [(entry: SpoolEntry, at: Int64)] = []
        var waiting = 0
        for name in try FileSystem.list(deferred) where !Spool.isHidden(name) {
            guard let info = FileSystem.regularFileInfo("\(deferred)/\(name)") else { continue }
            let next = FileSystem.regularFileInfo("\(deferred)/\(Spool.journalName(for: name))").map { Int64($0.modified.tv_sec) } ?? 0
            if next <= now {
                due.append((SpoolEntry(name: name, size: info.size, modified: info.modified, folder: .deferred), next))
            } else {
                waiting += 1
            }
        }
        return (due.sorted { ($0.at, $0.entry.name) < ($1.at, $1.entry.name) }.map(\.entry), waiting)
    }

    /// Makes every deferred file due now (after an endpoint is re-enabled); returns how many there are.
    public func makeDeferredDue() throws(FileSystemError) -> Int {
        var count = 0
        let now = Int64(time(nil))
        for name in try FileSystem.list(deferred) where !Spool.isHidden(name) {
            let journal = "\(deferred)/\(Spool.journalName(for: name))"
            if access(journal, F_OK) == 0 { try FileSystem.setModificationTime(journal, seconds: now) }
            count += 1
        }
        return count
    }
}
