#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Claims files into processing/: ready and due files, and the orphans of a run that stopped.
extension Spool {
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
}
