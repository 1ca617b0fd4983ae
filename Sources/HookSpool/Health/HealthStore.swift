// Health stage. Takes each run's per-endpoint figures and Retry-After waits;
// gives endpoints.json: who is disabled, failing since when, holding until when, for the runs that follow.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Reads and updates `SPOOL/endpoints.json`, the endpoints' health across runs.
///
/// Updates hold a lock on `SPOOL/.endpoints.lock`, so runs that overlap never lose each other's
/// changes, and write atomically (temporary file, fsync, rename).
public struct HealthStore: Sendable {
    /// The spool's root folder.
    public let spoolDirectory: String

    public init(spoolDirectory: String) {
        self.spoolDirectory = spoolDirectory
    }

    var path: String { spoolDirectory + "/endpoints.json" }
    private var lockPath: String { spoolDirectory + "/.endpoints.lock" }

    private struct File: Codable {
        var version = 1
        var endpoints: [String: EndpointHealth] = [:]
    }

    /// Every endpoint's health by name; a missing file means all are healthy.
    public func load() throws(FileSystemError) -> [String: EndpointHealth] {
        try read().endpoints
    }

    /// Changes the stored health under the lock and writes it back; returns the new state.
    @discardableResult
    public func update(_ change: (inout [String: EndpointHealth]) -> Void) throws(FileSystemError) -> [String: EndpointHealth] {
        try FileSystem.makeDirectory(spoolDirectory)
        let fd = FileSystem.openCreating(lockPath, O_RDWR | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .current("open", lockPath) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw .current("lock", lockPath) }
        var file = try read()
        change(&file.endpoints)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard var data = try? encoder.encode(file) else { return file.endpoints }
        data.append(0x0A)
        try FileSystem.writeAtomically(Array(data), to: path, mode: 0o600)
        return file.endpoints
    }

    private func read() throws(FileSystemError) -> File {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            if (error as NSError).code == NSFileReadNoSuchFileError || access(path, F_OK) != 0 { return File() }
            throw FileSystemError(operation: "read", path: path, code: EIO)
        }
        guard let file = try? JSONDecoder().decode(File.self, from: data) else {
            throw FileSystemError(operation: "parse", path: path, code: EINVAL)
        }
        return file
    }
}
