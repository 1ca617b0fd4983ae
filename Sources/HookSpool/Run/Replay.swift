#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Requeues exactly the failed deliveries of a file in `failed/`: the next run sends those pairs and no others.
public enum Replay {
    /// Why a file cannot be replayed.
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// What was requeued.
    public struct Requeued: Sendable {
        /// The file's name in `deferred/`.
        public var name: String
        /// The (line, endpoint) pairs that will be sent again.
        public var deliveries: Int
        /// Invalid lines in the file, which a replay cannot mend.
        public var invalidLines: Int
    }

    /// Moves `failed/NAME` to `deferred/`, due now, with a journal that lists only its failed deliveries.
    ///
    /// - Parameter file: a name in `failed/`, or a path to a file there.
    public static func requeue(_ file: String, spool: Spool) throws -> Requeued {
        let name = FileSystem.basename(of: file)
        if file.contains("/") {
            let folder = URL(fileURLWithPath: FileSystem.parent(of: file)).standardizedFileURL.resolvingSymlinksInPath().path
            let failed = URL(fileURLWithPath: spool.failed).standardizedFileURL.resolvingSymlinksInPath().path
            guard folder == failed else {
                throw Problem(description: "\(file) is not in this spool's failed/ folder (\(spool.failed))")
            }
        }
        let path = "\(spool.failed)/\(name)"
        guard Spool.isReadyName(name), FileSystem.regularFileInfo(path) != nil else {
            throw Problem(description: "no file \(name) in \(spool.failed)")
        }
        let sidecar = "\(spool.failed)/\(Spool.sidecarName(for: name))"
        let oldJournal = "\(spool.failed)/\(Spool.journalName(for: name))"
        var pairs: [DeliveryKey] = []
        var invalid = 0
        if let text = try? String(contentsOfFile: sidecar, encoding: .utf8) {
            let decoder = JSONDecoder()
            for line in text.split(separator: "\n") {
                guard let row = try? decoder.decode(RunReport.FailureRow.self, from: Data(line.utf8)) else { continue }
                if let endpoint = row.endpoint {
                    pairs.append(DeliveryKey(line: row.line, endpoint: endpoint))
                } else {
                    invalid += 1
                }
            }
        }
        guard !pairs.isEmpty else {
            throw Problem(description: "\(name) has no failed deliveries to replay\(invalid > 0 ? " (its \(invalid) failures are invalid lines: fix them and drop the file into incoming/ again)" : "")")
        }
        let originalName = (try? Journal.read(oldJournal))?.originalName ?? name

        let fd = FileSystem.openForLock(path)
        guard fd >= 0 else { throw FileSystemError.current("open", path) }
        defer { close(fd) }
        guard try FileSystem.tryLock(fd, path: path) else {
            throw Problem(description: "\(name) is being replayed by another process")
        }
        let destination = "\(spool.deferred)/\(name)"
        let journalPath = "\(spool.deferred)/\(Spool.journalName(for: name))"
        guard access(destination, F_OK) != 0, access(journalPath, F_OK) != 0 else {
            throw Problem(description: "a file named \(name) is already waiting in deferred/; replay it after that one is finished")
        }
        let journal = try JournalWriter(path: journalPath, validLength: nil)
        journal.header(originalName: originalName, identity: FileSystem.identity(of: fd))
        journal.replay(pairs)
        try journal.close()
        try FileSystem.setModificationTime(journalPath, seconds: Int64(Date().timeIntervalSince1970))
        guard try FileSystem.moveNoReplace(path, to: destination) else {
            throw Problem(description: "a file named \(name) is already waiting in deferred/")
        }
        try FileSystem.remove(sidecar)
        try FileSystem.remove(oldJournal)
        try FileSystem.syncDirectory(spool.deferred)
        try FileSystem.syncDirectory(spool.failed)
        return Requeued(name: name, deliveries: Set(pairs).count, invalidLines: invalid)
    }
}
