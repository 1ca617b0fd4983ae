#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Requeues failed deliveries of files in `failed/`, all of them or those a filter picks: the
/// next run sends exactly those pairs, and no others.
public enum Replay {
    /// Why a file cannot be replayed.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Which failed deliveries to replay; an empty criterion matches every delivery.
    public struct Filter: Sendable {
        /// Endpoint names.
        public var endpoints: Set<String> = []
        /// Event type globs.
        public var types: [EventPattern] = []
        /// The first attempt started at or after this (milliseconds since 1970).
        public var since: Int64?
        /// The first attempt started at or before this (milliseconds since 1970).
        public var until: Int64?
        /// Last answers: an HTTP status (`503`) or a failure word (`timeout`, `connect_error`, `rejected`, …).
        public var statuses: Set<String> = []

        public init(endpoints: Set<String> = [], types: [EventPattern] = [], since: Int64? = nil, until: Int64? = nil, statuses: Set<String> = []) {
            self.endpoints = endpoints
            self.types = types
            self.since = since
            self.until = until
            self.statuses = statuses
        }

        /// Whether it picks every failed delivery.
        public var isEmpty: Bool { endpoints.isEmpty && types.isEmpty && since == nil && until == nil && statuses.isEmpty }

        /// Whether `row`, a failed delivery, is to be replayed (an invalid line never is).
        public func matches(_ row: RunReport.FailureRow) -> Bool {
            guard let endpoint = row.endpoint else { return false }
            if !endpoints.isEmpty && !endpoints.contains(endpoint) { return false }
            if !types.isEmpty {
                guard let type = row.eventType, types.contains(where: { $0.matches(type) }) else { return false }
            }
            if since != nil || until != nil {
                // A row from before 0.5 has no first_attempt: it matches no time bound.
                guard let first = row.firstAttempt.flatMap(RFC3339.milliseconds) else { return false }
                if let since, first < since { return false }
                if let until, first > until { return false }
            }
            if !statuses.isEmpty {
                let words = [row.lastStatus.map(String.init), row.lastError].compactMap { $0 }
                guard words.contains(where: statuses.contains) else { return false }
            }
            return true
        }
    }

    /// The failed deliveries of one file in `failed/` that a filter picks.
    public struct Selection: Sendable {
        /// The file's name in `failed/`.
        public var name: String
        /// One row per picked (line, endpoint) pair, in the sidecar's order.
        public var picked: [RunReport.FailureRow]
        /// Failed deliveries left in `failed/` (not picked).
        public var leftOut: Int
        /// Invalid lines, which a replay cannot mend.
        public var invalidLines: Int
    }

    /// What was requeued.
    public struct Requeued: Sendable {
        /// The file's name in `deferred/`.
        public var name: String
        /// The (line, endpoint) pairs that will be sent again.
        public var deliveries: Int
        /// Failed deliveries not picked: they stay in `failed/`, with the file.
        public var leftOut: Int
        /// Invalid lines in the file, which a replay cannot mend.
        public var invalidLines: Int
    }

    /// The files in `failed/` that have failures recorded (a sidecar), by name.
    public static func failedFiles(spool: Spool) throws -> [String] {
        Spool.failedFileNames(in: Set(try FileSystem.list(spool.failed))).sorted()
    }

    /// The failed deliveries of `file` that `filter` picks, without changing anything (`--dry-run`).
    public static func select(_ file: String, spool: Spool, filter: Filter = Filter()) throws -> Selection {
        let name = try failedName(file, spool: spool)
        return selection(name: name, rows: readSidecar(name, spool: spool), filter: filter).selection
    }

    /// Requeues the failed deliveries of `file` (a name in `failed/`, or a path to a file there)
    /// that `filter` picks: to `deferred/`, due now, with a journal that lists only those.
    ///
    /// When it picks them all the file moves; otherwise a copy goes, and the file stays in
    /// `failed/` with the rest. Under the file's lock and read anew under it, so two replays at
    /// once never requeue a pair twice: the second finds the file gone, or those rows gone.
    public static func requeue(_ file: String, spool: Spool, filter: Filter = Filter()) throws -> Requeued {
        let name = try failedName(file, spool: spool)
        let path = "\(spool.failed)/\(name)"
        let fd = FileSystem.openForLock(path, noFollow: true)
        guard fd >= 0 else {
            if errno == ENOENT { throw Problem(description: "\(name) is no longer in \(spool.failed) (replayed meanwhile?)") }
            throw FileSystemError.current("open", path)
        }
        defer { close(fd) }
        guard try FileSystem.tryLock(fd, path: path) else {
            throw Problem(description: "\(name) is being replayed by another process")
        }
        // Locked: the file may have moved on (another replay) between the open and the lock.
        guard FileSystem.sameFile(path, descriptor: fd) else {
            throw Problem(description: "\(name) was replayed by another process meanwhile")
        }
        // A second name for it (a replay interrupted between the two halves of its move, which
        // leaves it in deferred/ or done/ too): replaying it again would send its pairs twice.
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_nlink == 1 else {
            throw Problem(description: "\(name) has another name in the spool (an interrupted replay?): it is not replayed again; remove failed/\(name) if deferred/ or done/ holds it")
        }
        let rows = readSidecar(name, spool: spool)
        let (selection, pairs, kept) = selection(name: name, rows: rows, filter: filter)
        guard !pairs.isEmpty else {
            let invalid = selection.invalidLines
            if filter.isEmpty || selection.leftOut == 0 {
                throw Problem(description: "\(name) has no failed deliveries to replay\(invalid > 0 ? " (its \(invalid) failures are invalid lines: fix them and drop the file into incoming/ again)" : "")")
            }
            throw Problem(description: "none of the \(selection.leftOut) failed deliveries of \(name) matches")
        }
        let sidecar = "\(spool.failed)/\(Spool.sidecarName(for: name))"
        let oldJournal = "\(spool.failed)/\(Spool.journalName(for: name))"
        let originalName = (try? Journal.read(oldJournal))?.originalName ?? name
        let destination = "\(spool.deferred)/\(name)"
        let journalPath = "\(spool.deferred)/\(Spool.journalName(for: name))"
        guard access(destination, F_OK) != 0, access(journalPath, F_OK) != 0 else {
            throw Problem(description: "a file named \(name) is already waiting in deferred/; replay it after that one is finished")
        }

        if selection.leftOut == 0 {
            do {
                try writeJournal(journalPath, originalName: originalName, identity: FileSystem.identity(of: fd), pairs: pairs)
                guard try FileSystem.moveNoReplace(path, to: destination) else {
                    throw Problem(description: "a file named \(name) is already waiting in deferred/")
                }
            } catch {
                // No journal without its file: it would make every later replay say one is waiting.
                if access(destination, F_OK) != 0 { unlink(journalPath) }
                throw error
            }
            try FileSystem.remove(sidecar)
            try FileSystem.remove(oldJournal)
        } else {
            // The copy and its journal first, then the rows it takes leave the sidecar: a crash
            // between the two may replay a pair twice, never lose one.
            let copy = try copyForReplay(fd, from: path, into: spool.deferred, name: name)
            do {
                try writeJournal(journalPath, originalName: originalName, identity: copy.identity, pairs: pairs)
                guard try FileSystem.moveNoReplace(copy.path, to: destination) else {
                    throw Problem(description: "a file named \(name) is already waiting in deferred/")
                }
            } catch {
                unlink(copy.path)
                if access(destination, F_OK) != 0 { unlink(journalPath) }
                throw error
            }
            // The rows not picked, as they were (a line this version cannot read is kept as it is).
            var text: [UInt8] = []
            for line in kept {
                text += line
                text.append(0x0A)
            }
            var sidecarInfo = stat()
            let mode = stat(sidecar, &sidecarInfo) == 0 ? sidecarInfo.st_mode & 0o777 : 0o640
            try FileSystem.writeAtomically(text, to: sidecar, mode: mode)
        }
        try FileSystem.syncDirectory(spool.deferred)
        try FileSystem.syncDirectory(spool.failed)
        return Requeued(name: name, deliveries: pairs.count, leftOut: selection.leftOut, invalidLines: selection.invalidLines)
    }

    /// The name in `failed/` that `file` (a name, or a path to a file there) stands for.
    private static func failedName(_ file: String, spool: Spool) throws -> String {
        let name = FileSystem.basename(of: file)
        if file.contains("/") {
            let folder = URL(fileURLWithPath: FileSystem.parent(of: file)).standardizedFileURL.resolvingSymlinksInPath().path
            let failed = URL(fileURLWithPath: spool.failed).standardizedFileURL.resolvingSymlinksInPath().path
            guard folder == failed else {
                throw Problem(description: "\(file) is not in this spool's failed/ folder (\(spool.failed))")
            }
        }
        guard Spool.isReadyName(name), FileSystem.regularFileInfo("\(spool.failed)/\(name)") != nil else {
            throw Problem(description: "no file \(name) in \(spool.failed)")
        }
        return name
    }

    /// The lines of `failed/NAME.failures.ndjson`, each with its row (nil: a line this version cannot read).
    private static func readSidecar(_ name: String, spool: Spool) -> [(line: ArraySlice<UInt8>, row: RunReport.FailureRow?)] {
        guard let bytes = try? FileSystem.readAll("\(spool.failed)/\(Spool.sidecarName(for: name))", noFollow: true, maxBytes: 1 << 30) else { return [] }
        let decoder = JSONDecoder()
        return bytes.split(separator: 0x0A).map { ($0, try? decoder.decode(RunReport.FailureRow.self, from: Data($0))) }
    }

    /// What `filter` picks of the sidecar's `lines`: the selection, its pairs (each once), and the lines that stay.
    private static func selection(name: String, rows lines: [(line: ArraySlice<UInt8>, row: RunReport.FailureRow?)], filter: Filter)
        -> (selection: Selection, pairs: [DeliveryKey], kept: [ArraySlice<UInt8>])
    {
        var picked: [RunReport.FailureRow] = []
        var pairs: [DeliveryKey] = []
        var seen = Set<DeliveryKey>()
        var kept: [ArraySlice<UInt8>] = []
        var leftOut = Set<DeliveryKey>()
        var invalid = 0
        for (line, row) in lines {
            guard let row else {
                kept.append(line)
                continue
            }
            guard let endpoint = row.endpoint else {
                invalid += 1
                kept.append(line)
                continue
            }
            let key = DeliveryKey(line: row.line, endpoint: endpoint)
            if filter.matches(row) {
                if seen.insert(key).inserted {
                    pairs.append(key)
                    picked.append(row)
                }
            } else {
                leftOut.insert(key)
                kept.append(line)
            }
        }
        leftOut.subtract(seen)
        return (Selection(name: name, picked: picked, leftOut: leftOut.count, invalidLines: invalid), pairs, kept)
    }

    private static func writeJournal(_ path: String, originalName: String, identity: String, pairs: [DeliveryKey]) throws {
        let journal = try JournalWriter(path: path, validLength: nil)
        journal.header(originalName: originalName, identity: identity)
        journal.replay(pairs)
        try journal.close()
        try FileSystem.setModificationTime(path, seconds: Int64(Date().timeIntervalSince1970))
    }

    /// A copy of the open file under a hidden temporary name in `folder`, fsynced, with the
    /// original's modification time (its place in spool order); its path and journal identity.
    private static func copyForReplay(_ source: Int32, from path: String, into folder: String, name: String) throws -> (path: String, identity: String) {
        let temporary = "\(folder)/.\(name).\(FileSystem.randomHex()).replay.tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError.current("create", temporary) }
        defer { close(fd) }
        var failure: FileSystemError?
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var offset: off_t = 0
        while failure == nil {
            let count = chunk.withUnsafeMutableBytes { pread(source, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                failure = .current("read", path)
            } else if count == 0 {
                break
            } else {
                if !FileSystem.writeAll(fd, chunk[0..<count]) { failure = .current("write", temporary) }
                offset += off_t(count)
            }
        }
        var info = stat()
        if failure == nil, fstat(source, &info) == 0, fchmod(fd, info.st_mode & 0o777) != 0 {
            failure = .current("set mode of", temporary)
        }
        if failure == nil, fstat(source, &info) == 0 {
            #if canImport(Darwin)
            let modified = info.st_mtimespec
            #else
            let modified = info.st_mtim
            #endif
            var times = [timespec(tv_sec: modified.tv_sec, tv_nsec: 0), timespec(tv_sec: modified.tv_sec, tv_nsec: 0)]
            if futimens(fd, &times) != 0 { failure = .current("set the time of", temporary) }
        }
        if failure == nil && fsync(fd) != 0 { failure = .current("sync", temporary) }
        if let failure {
            unlink(temporary)
            throw failure
        }
        return (temporary, FileSystem.identity(of: fd))
    }
}
