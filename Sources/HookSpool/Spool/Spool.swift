#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The spool folder: producers drop files in `incoming/`; runs claim them into `processing/`
/// and finish them in `done/`, `failed/` or `deferred/`.
///
/// Beside a file in `processing/` or `deferred/` live its journal (`.NAME.journal`) and its
/// failures so far (`.NAME.failures.ndjson`); the leading dot keeps them apart from producers' names.
public struct Spool: Sendable {
    /// The spool's root folder (absolute).
    public let root: String

    /// The largest file claimed from `incoming/` (`limits.max_file_bytes`).
    public var maxFileBytes: Int64

    public init(root: String, maxFileBytes: Int = Limits.defaultMaxFileBytes) {
        self.root = root
        self.maxFileBytes = Int64(maxFileBytes)
    }

    public var incoming: String { root + "/incoming" }
    public var processing: String { root + "/processing" }
    public var deferred: String { root + "/deferred" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }

    /// Longest name of a spool file, in bytes: the helper files beside it (`.NAME.journal`,
    /// `.NAME-<run id>.ndjson.journal.stale-<run id>`, …) must stay within NAME_MAX (255).
    public static let maxNameBytes = 190

    /// Creates the spool's folders if they are missing, readable by the service's user alone
    /// (0700; `incoming/` too, until the operator opens it to producers). An `incoming/` the service
    /// owns that others may write gets the sticky bit, so no producer can delete or replace
    /// another's files.
    public func prepare() throws(FileSystemError) {
        for folder in [incoming, processing, deferred, done, failed] {
            try FileSystem.makeDirectory(folder, mode: 0o700)
        }
        var info = stat()
        if stat(incoming, &info) == 0, info.st_uid == geteuid(), info.st_mode & (S_IWGRP | S_IWOTH) != 0, info.st_mode & S_ISVTX == 0 {
            if chmod(incoming, (info.st_mode & 0o7777) | S_ISVTX) != 0 { throw .current("set the sticky bit of", incoming) }
        }
    }

    /// Whether a producer's file name is ready to be read: `.ndjson` or `.jsonl`, and not a temporary name.
    public static func isReadyName(_ name: String) -> Bool {
        if isHidden(name) || endsWith(name, ".tmp") { return false }
        return endsWith(name, ".ndjson") || endsWith(name, ".jsonl")
    }

    /// Whether a name's first byte is a dot: a producer's temporary name, or one of hookspool's
    /// helpers. Bytes, not characters: `"." + "\u{301}x"` is one character that is not `"."`.
    static func isHidden(_ name: String) -> Bool {
        name.utf8.first == UInt8(ascii: ".")
    }

    /// Whether a name's bytes end with `suffix`'s.
    static func endsWith(_ name: String, _ suffix: String) -> Bool {
        name.utf8.count >= suffix.utf8.count && name.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

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

    /// Files in `processing/` whose owner is gone (their lock could be taken): locked now, for this run to resume.
    ///
    /// A file that cannot be resumed (it cannot be opened, or is no longer a regular file) is left
    /// where it is and passed to `problem`, one sentence each; the others are resumed all the same.
    public func orphans(problem: (String) -> Void = { _ in }) throws(FileSystemError) -> [ClaimedFile] {
        var found: [ClaimedFile] = []
        let names = try FileSystem.list(processing)
        // Bytes, not Strings: two names that differ only in Unicode normalisation are two files.
        let present = Set(names.map { Array($0.utf8) })
        for name in names where Spool.isHidden(name) {
            if Spool.endsWith(name, ".lock") {
                // A lock file left by a run killed while it held it: remove it, unless a run holds it.
                let data = String(decoding: name.utf8.dropFirst().dropLast(".lock".utf8.count), as: UTF8.self)
                if !present.contains(Array(data.utf8)), let stale = try SpoolLock.acquire(data, in: processing) { stale.release() }
            } else if SpoolLock.isUniqueName(name), let info = FileSystem.regularFileInfo("\(processing)/\(name)"),
                Int64(time(nil)) - Int64(info.modified.tv_sec) > 60
            {
                // A lock file's unique first name, left by a run killed while it made the lock.
                try FileSystem.remove("\(processing)/\(name)")
            }
        }
        for name in names.sorted() where !Spool.isHidden(name) {
            guard let lock = try SpoolLock.acquire(name, in: processing) else { continue }
            let file: OpenedSpoolFile
            switch FileSystem.openSpoolFile(name, in: processing, singleLink: false) {
            case .opened(let opened):
                file = opened
            case .missing:
                // Finished and moved between the listing and the lock.
                lock.release()
                continue
            case .refused(let reason):
                lock.release()
                problem("processing/\(name) cannot be resumed: \(reason); it stays there")
                continue
            case .failed(let error):
                lock.release()
                problem("processing/\(name) cannot be resumed: \(error); it stays there")
                continue
            }
            // A claim that stopped between link and unlink leaves a second name in incoming/ or
            // deferred/: remove it, or a later run would claim the same events again.
            var removed = true
            for folder in [incoming, deferred] where FileSystem.sameFile("\(folder)/\(name)", descriptor: file.descriptor) {
                do {
                    try FileSystem.remove("\(folder)/\(name)")
                    try FileSystem.syncDirectory(folder)
                } catch {
                    problem("processing/\(name) cannot be resumed: its second name in \(folder) cannot be removed: \(error)")
                    removed = false
                }
            }
            guard removed else {
                close(file.descriptor)
                lock.release()
                continue
            }
            found.append(ClaimedFile(name: name, path: "\(processing)/\(name)", file: file, lock: lock))
        }
        return found
    }

    /// Claims a ready or due file: locks it, then moves it (and, from `deferred/`, its journal and failures) into `processing/`.
    public func claim(_ entry: SpoolEntry) throws(FileSystemError) -> ClaimResult {
        let result = try claimUnsynced(entry)
        if case .claimed(let file) = result {
            do {
                try FileSystem.syncDirectory(processing)
                try FileSystem.syncDirectory(folder(of: entry))
            } catch {
                file.release()
                throw error
            }
        }
        return result
    }

    /// Claims `entries` in order, then makes the moves durable with one fsync per folder for the
    /// whole batch (claiming many small files one fsync pair at a time was most of their cost).
    /// When a folder cannot be synced, every claim of the batch fails with that error; its files
    /// stay in `processing/`, unlocked, where a later run takes them up.
    public func claim(batch entries: some Collection<SpoolEntry>) -> [Result<ClaimResult, FileSystemError>] {
        var results: [Result<ClaimResult, FileSystemError>] = []
        results.reserveCapacity(entries.count)
        var sources: [String] = []
        for entry in entries {
            results.append(Result { () throws(FileSystemError) in try claimUnsynced(entry) })
            if case .success(.claimed) = results[results.count - 1], !sources.contains(folder(of: entry)) {
                sources.append(folder(of: entry))
            }
        }
        guard !sources.isEmpty else { return results }
        do {
            try FileSystem.syncDirectory(processing)
            for source in sources { try FileSystem.syncDirectory(source) }
        } catch {
            return results.map { result in
                if case .success(.claimed(let file)) = result { file.release() }
                return .failure(error)
            }
        }
        return results
    }

    private func folder(of entry: SpoolEntry) -> String {
        entry.folder == .incoming ? incoming : deferred
    }

    /// Locks and moves one file into `processing/` without syncing the folders.
    ///
    /// The file is opened first, as a regular file with one link and without following links
    /// (anything else is refused and left where it is), then its name's lock is taken, so the lock
    /// is held the moment the file shows up in `processing/`.
    private func claimUnsynced(_ entry: SpoolEntry) throws(FileSystemError) -> ClaimResult {
        let sourceFolder = folder(of: entry)
        let source = "\(sourceFolder)/\(entry.name)"
        let destination = "\(processing)/\(entry.name)"
        let file: OpenedSpoolFile
        switch FileSystem.openSpoolFile(entry.name, in: sourceFolder, singleLink: entry.folder == .incoming) {
        case .opened(let opened): file = opened
        case .missing: return .alreadyClaimed
        case .refused(let reason): return .refused(reason)
        case .failed(let error): throw error
        }
        let fd = file.descriptor
        if entry.folder == .incoming && file.size > maxFileBytes {
            close(fd)
            return .refused(.tooLarge(bytes: file.size, limit: maxFileBytes))
        }
        var keep = false
        defer { if !keep { close(fd) } }
        guard let lock = try SpoolLock.acquire(entry.name, in: processing) else {
            // Another run is claiming or working on this name: this very file, or an earlier one of the same name.
            if access(destination, F_OK) == 0 && !FileSystem.sameFile(destination, descriptor: fd) { return .nameBusy }
            return .alreadyClaimed
        }
        defer { if !keep { lock.release() } }
        guard FileSystem.sameFile(source, descriptor: fd) else { return .alreadyClaimed }
        if access(destination, F_OK) == 0 {
            guard FileSystem.sameFile(destination, descriptor: fd) else { return .nameBusy }
            // An earlier claim (by link) stopped before its unlink; the processing/ name is the real one.
            try FileSystem.remove(source)
            keep = true
            return .claimed(ClaimedFile(name: entry.name, path: destination, file: file, lock: lock))
        }
        if entry.folder == .deferred {
            // Journal and failures first: the file never sits in processing/ without them.
            for aux in [Spool.journalName(for: entry.name), Spool.pendingFailuresName(for: entry.name)] {
                if access("\(deferred)/\(aux)", F_OK) == 0 {
                    try FileSystem.remove("\(processing)/\(aux)")
                    _ = try FileSystem.moveNoReplace("\(deferred)/\(aux)", to: "\(processing)/\(aux)")
                }
            }
        }
        // rename, not link: only a run holding the name's lock creates processing/NAME, so nothing
        // is replaced; it needs no permission on the producer's file (fs.protected_hardlinks), and
        // the file never has a second name.
        if rename(source, destination) != 0 {
            // Gone: taken back by its producer after it was opened.
            if errno == ENOENT { return .alreadyClaimed }
            throw .current("rename", "\(source) -> \(destination)")
        }
        var claimed = file
        if !FileSystem.sameFile(destination, descriptor: fd) {
            // The producer renamed something else onto the name after it was opened: that is what moved.
            switch FileSystem.openSpoolFile(entry.name, in: processing, singleLink: true) {
            case .opened(let other):
                claimed = other
            case .missing:
                return .alreadyClaimed
            case .refused(let reason):
                // Back where its producer put it, unless the name is taken again: then it waits
                // in processing/, where the next run reports it.
                if access(source, F_OK) != 0 { _ = rename(destination, source) }
                return .refused(reason)
            case .failed(let error):
                throw error
            }
            close(fd)
        }
        keep = true
        return .claimed(ClaimedFile(name: entry.name, path: destination, file: claimed, lock: lock))
    }

    /// Moves a finished file out of `processing/`.
    ///
    /// To `done/`: the file alone (its journal is removed). To `failed/`: the file,
    /// `NAME.failures.ndjson`, and the journal (hidden, for `replay`). To `deferred/`: the file, its journal and failures so far, with
    /// the journal's modification time set to `nextAttempt`. A name already taken in the
    /// destination gets `-<run id>` before its extension; nothing is ever overwritten.
    /// Returns the new path relative to the spool root, e.g. `failed/orders-1.ndjson`.
    ///
    /// With `syncFolders: false` the moves are left for the caller to make durable: it syncs
    /// `folder(for: outcome)` and `processing`.
    public func finish(
        _ file: ClaimedFile, outcome: FileOutcome, runID: String, nextAttempt: Int64? = nil, syncFolders: Bool = true
    ) throws(FileSystemError) -> String {
        let name = file.name
        let folderName = outcome.rawValue
        let folder = self.folder(for: outcome)
        let journal = "\(processing)/\(Spool.journalName(for: name))"
        let failures = "\(processing)/\(Spool.pendingFailuresName(for: name))"
        var finalName = name
        if outcome == .deferred {
            // The file first, then its helpers: a crash in between leaves the journal in processing/,
            // where claiming the file back from deferred/ finds it (its header names the file).
            finalName = try freeName(name, in: folder, runID: runID) { candidate in
                access("\(folder)/\(candidate)", F_OK) != 0 && access("\(folder)/\(Spool.journalName(for: candidate))", F_OK) != 0
            }
            if let nextAttempt, access(journal, F_OK) == 0 {
                try FileSystem.setModificationTime(journal, seconds: nextAttempt)
            }
            guard try FileSystem.moveNoReplace(file.path, to: "\(folder)/\(finalName)") else {
                throw FileSystemError(operation: "move", path: "\(folder)/\(finalName)", code: EEXIST)
            }
            for (from, to) in [(journal, Spool.journalName(for: finalName)), (failures, Spool.pendingFailuresName(for: finalName))] where access(from, F_OK) == 0 {
                guard try FileSystem.moveNoReplace(from, to: "\(folder)/\(to)") else {
                    throw FileSystemError(operation: "move", path: "\(folder)/\(to)", code: EEXIST)
                }
            }
        } else {
            finalName = try freeName(name, in: folder, runID: runID) { candidate in
                access("\(folder)/\(candidate)", F_OK) != 0 && access("\(folder)/\(Spool.sidecarName(for: candidate))", F_OK) != 0
            }
            // The file first: a crash before its helpers follow leaves them in processing/, where
            // their header tells them apart from any later file of the same name.
            guard try FileSystem.moveNoReplace(file.path, to: "\(folder)/\(finalName)") else {
                throw FileSystemError(operation: "move", path: "\(folder)/\(finalName)", code: EEXIST)
            }
            if outcome == .failed, access(failures, F_OK) == 0 {
                guard try FileSystem.moveNoReplace(failures, to: "\(folder)/\(Spool.sidecarName(for: finalName))") else {
                    throw FileSystemError(operation: "move", path: "\(folder)/\(Spool.sidecarName(for: finalName))", code: EEXIST)
                }
            }
            if outcome == .failed, access(journal, F_OK) == 0 {
                // Kept (hidden) so that a replay knows the name the file's ids were derived from.
                try FileSystem.remove("\(folder)/\(Spool.journalName(for: finalName))")
                _ = try FileSystem.moveNoReplace(journal, to: "\(folder)/\(Spool.journalName(for: finalName))")
            }
            try FileSystem.remove(failures)
            try FileSystem.remove(journal)
        }
        if syncFolders {
            try FileSystem.syncDirectory(folder)
            try FileSystem.syncDirectory(processing)
        }
        return "\(folderName)/\(finalName)"
    }

    /// The folder a finished file goes to.
    public func folder(for outcome: FileOutcome) -> String {
        switch outcome {
        case .done: return done
        case .failed: return failed
        case .deferred: return deferred
        }
    }

    private func freeName(_ name: String, in folder: String, runID: String, isFree: (String) -> Bool) throws(FileSystemError) -> String {
        if isFree(name) { return name }
        let alternative = Spool.alternativeName(for: name, suffix: runID)
        if isFree(alternative) { return alternative }
        throw FileSystemError(operation: "move", path: "\(folder)/\(alternative)", code: EEXIST)
    }

    /// `orders-1.ndjson` → `orders-1.failures.ndjson`, the sidecar in `failed/`.
    public static func sidecarName(for name: String) -> String {
        "\(stem(of: name)).failures.ndjson"
    }

    /// `orders-1.ndjson` → `.orders-1.ndjson.journal`.
    static func journalName(for name: String) -> String {
        ".\(name).journal"
    }

    /// `orders-1.ndjson` → `.orders-1.ndjson.failures`, the failures so far while in `processing/` or `deferred/`.
    static func pendingFailuresName(for name: String) -> String {
        ".\(name).failures"
    }

    static func alternativeName(for name: String, suffix: String) -> String {
        let stem = stem(of: name)
        return "\(stem)-\(suffix)\(name.dropFirst(stem.count))"
    }

    static func stem(of name: String) -> String {
        for ext in [".ndjson", ".jsonl"] where name.hasSuffix(ext) {
            return String(name.dropLast(ext.count))
        }
        return name
    }
}

/// A file in `incoming/` or `deferred/` that a run may claim.
public struct SpoolEntry: Sendable {
    /// Which folder it is in.
    public enum Folder: Sendable {
        case incoming
        case deferred
    }

    public var name: String
    public var size: Int64
    public var modified: timespec
    public var folder: Folder
}

/// What happened when a run tried to claim a file.
public enum ClaimResult: Sendable {
    /// This run owns the file now.
    case claimed(ClaimedFile)
    /// Another run claimed it first.
    case alreadyClaimed
    /// A different file of the same name is in `processing/`; try again in a later run.
    case nameBusy
    /// Not a spool file (a symbolic link, a FIFO, a hard-linked file, …): left where it is.
    case refused(SpoolRefusal)
}

/// A name in `incoming/` that a run refused to read, and why.
public struct RefusedEntry: Sendable, Equatable {
    public var name: String
    public var reason: SpoolRefusal
}

/// Where a finished file goes.
public enum FileOutcome: String, Sendable, Codable {
    case done
    case failed
    case deferred
}
