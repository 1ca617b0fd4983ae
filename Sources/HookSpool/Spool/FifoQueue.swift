#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A fifo endpoint's order across runs: `SPOOL/fifo/NAME.json` lists, in claim order, the spool
/// files that may still hold deliveries to it. Only the first may be delivered from.
///
/// Every run that claims a file adds it before the claim, so two runs claiming side by side
/// agree on the order; a run drops a file once the endpoint's deliveries in it have all ended
/// (delivered, or failed for good). Updates hold `SPOOL/fifo/.NAME.lock` and write atomically.
struct FifoQueue: Sendable {
    let spool: Spool
    let endpoint: String

    var folder: String { Self.folder(of: spool) }
    var path: String { "\(folder)/\(endpoint).json" }
    private var lockPath: String { "\(folder)/.\(endpoint).lock" }

    /// `SPOOL/fifo`.
    static func folder(of spool: Spool) -> String { spool.root + "/fifo" }

    private struct File: Codable {
        var version = 1
        /// Spool file names, oldest claim first.
        var files: [String] = []
    }

    /// Where a file stands for the endpoint.
    enum Turn: Sendable, Equatable {
        /// First in line: its deliveries to the endpoint may go.
        case first
        /// Behind `head`: its deliveries wait.
        case behind(head: String)
    }

    /// Adds `names` at the end, in order, leaving those already listed where they are; returns
    /// the names it added.
    @discardableResult
    func add(_ names: [String]) throws(FileSystemError) -> Set<String> {
        var added: Set<String> = []
        try update { files in
            var listed = Set(files)
            for name in names where listed.insert(name).inserted {
                files.append(name)
                added.insert(name)
            }
        }
        return added
    }

    /// Drops `name`: the endpoint's deliveries in it have all ended.
    func remove(_ name: String) throws(FileSystemError) {
        try update { files in files.removeAll { $0 == name } }
    }

    /// Follows a file that was moved under another name.
    func rename(_ name: String, to newName: String) throws(FileSystemError) {
        guard name != newName else { return }
        try update { files in
            if let index = files.firstIndex(of: name) { files[index] = newName }
        }
    }

    /// Where `name` stands, adding it at the end if it is missing; first dropping leading files
    /// that are gone from the spool's unfinished folders (`incoming/`, `processing/`, `deferred/`).
    func turn(of name: String) throws(FileSystemError) -> Turn {
        var turn = Turn.first
        try update { files in
            if !files.contains(name) { files.append(name) }
            while let head = files.first, head != name, !isUnfinished(head) {
                // Moved to `deferred/` under another name by a run killed before it said so.
                if let successor = movedName(of: head, listed: files) {
                    files[0] = successor
                    continue
                }
                files.removeFirst()
            }
            turn = files.first == name ? .first : .behind(head: files.first ?? name)
        }
        return turn
    }

    /// The files listed, oldest claim first.
    func files() throws(FileSystemError) -> [String] {
        try read().files
    }

    /// Whether `name` may still hold deliveries: a run holds its name's lock, or a regular file of
    /// that name waits in `incoming/` (with one link, as a run would claim it), `processing/` or `deferred/`.
    /// Anything else left in `incoming/` under the name (a symbolic link, a FIFO) is never claimed, so it holds nothing.
    private func isUnfinished(_ name: String) -> Bool {
        guard let lock = try? SpoolLock.acquire(name, in: spool.processing) else { return true }
        defer { lock.release() }
        func regularFile(_ path: String, singleLink: Bool) -> Bool {
            var info = stat()
            return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && (!singleLink || info.st_nlink == 1)
        }
        return regularFile("\(spool.incoming)/\(name)", singleLink: true)
            || regularFile("\(spool.processing)/\(name)", singleLink: false)
            || regularFile("\(spool.deferred)/\(name)", singleLink: false)
    }

    /// The name `name` was deferred under when `deferred/` already held one so called
    /// (`STEM-RUN.EXT`), if such a file waits there and is not itself in line.
    private func movedName(of name: String, listed: [String]) -> String? {
        let stem = Spool.stem(of: name)
        let ext = name.dropFirst(stem.count)
        guard let names = try? FileSystem.list(spool.deferred) else { return nil }
        let listed = Set(listed)
        return names.sorted().first { candidate in
            candidate.hasPrefix(stem + "-") && candidate.hasSuffix(ext) && candidate.count > stem.count + 1 + ext.count
                && !listed.contains(candidate) && !candidate.hasPrefix(".") && FileSystem.regularFileInfo("\(spool.deferred)/\(candidate)") != nil
        }
    }

    /// Serialises this process's updates, which POSIX-emulated flock would not.
    private static let updating = Mutex(())

    /// Changes the list under the lock and writes it back (when it changed).
    private func update(_ change: (inout [String]) -> Void) throws(FileSystemError) {
        try Self.updating.withLock { _ throws(FileSystemError) in
            try FileSystem.makeDirectory(folder, mode: 0o700)
            let fd = FileSystem.openCreating(lockPath, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw .current("open", lockPath) }
            defer { close(fd) }
            guard flock(fd, LOCK_EX) == 0 else { throw .current("lock", lockPath) }
            var file = try read()
            let before = file.files
            change(&file.files)
            guard file.files != before else { return }
            guard var data = try? JSONEncoder().encode(file) else { return }
            data.append(0x0A)
            try FileSystem.writeAtomically(Array(data), to: path, mode: 0o600)
        }
    }

    private func read() throws(FileSystemError) -> File {
        // A FIFO or device in its place is refused, never waited on; a line is a few bytes per file.
        guard let bytes = try FileSystem.readAll(path, noFollow: true, maxBytes: 256 << 20) else { return File() }
        guard let file = try? JSONDecoder().decode(File.self, from: Data(bytes)), file.version == 1 else {
            throw FileSystemError(operation: "parse", path: path, code: EINVAL)
        }
        return file
    }
}
