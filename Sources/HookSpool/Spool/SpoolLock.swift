#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The lock that says a run owns a spool name: `processing/.NAME.lock`, a file only the service
/// can open, so no producer can take it (a lock on the producer's own file could be held by the
/// producer forever, and hide the file from every run).
///
/// Created by linking a uniquely named file onto the lock's name (never `O_EXCL` on the shared
/// name, which has no winner on some shared file systems), and removed by its holder before it
/// lets go; whoever locks a lock file checks it still has its name.
final class SpoolLock: Sendable {
    /// The lock file's path.
    let path: String
    private let descriptor: Int32
    private let held = Mutex(true)

    /// Lock files this process holds: a second descriptor for one of them is never opened, since
    /// closing it would drop the lock where flock is emulated with POSIX locks (NFS).
    /// (Bytes, not Strings: two names that differ only in Unicode normalisation are two files.)
    private static let heldPaths = Mutex<Set<[UInt8]>>([])

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        release()
    }

    /// `.NAME.lock` beside `processing/NAME`.
    static func path(for name: String, in processing: String) -> String {
        "\(processing)/.\(name).lock"
    }

    /// Takes the lock for `name` without waiting; nil when another run (or this one) holds it.
    static func acquire(_ name: String, in processing: String) throws(FileSystemError) -> SpoolLock? {
        let path = path(for: name, in: processing)
        let key = Array(path.utf8)
        let reserved = heldPaths.withLock { $0.insert(key).inserted }
        guard reserved else { return nil }
        var keep = false
        defer { if !keep { _ = heldPaths.withLock { $0.remove(key) } } }
        // A few rounds: each one that loses is a holder that removed the file just before we locked it.
        for _ in 0..<8 {
            var fd = FileSystem.openForLock(path, noFollow: true)
            if fd < 0 {
                guard errno == ENOENT else { throw .current("open", path) }
                fd = try create(path)
                if fd < 0 { continue }
            }
            let locked: Bool
            do {
                locked = try FileSystem.tryLock(fd, path: path)
            } catch {
                close(fd)
                throw error
            }
            guard locked else {
                close(fd)
                return nil
            }
            guard FileSystem.sameFile(path, descriptor: fd) else {
                close(fd)
                continue
            }
            keep = true
            return SpoolLock(path: path, descriptor: fd)
        }
        return nil
    }

    /// Makes the lock file under a unique name and links it onto `path`; -1 when another run's came first.
    private static func create(_ path: String) throws(FileSystemError) -> Int32 {
        let unique = "\(path).\(FileSystem.randomHex())"
        let fd = open(unique, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .current("create", unique) }
        defer { unlink(unique) }
        if link(unique, path) == 0 { return fd }
        let code = errno
        close(fd)
        // ENOENT: another host's orphan sweep took the unique name for a leftover (its clock ahead
        // by more than a minute); the next round makes a new one.
        if code == EEXIST || code == ENOENT { return -1 }
        throw FileSystemError(operation: "link", path: "\(unique) -> \(path)", code: code)
    }

    /// Removes the lock file and lets go of the lock.
    func release() {
        let wasHeld = held.withLock { isHeld in
            defer { isHeld = false }
            return isHeld
        }
        guard wasHeld else { return }
        // Removed while still locked, so whoever opened it meanwhile sees it lost its name.
        if FileSystem.sameFile(path, descriptor: descriptor) { unlink(path) }
        close(descriptor)
        _ = Self.heldPaths.withLock { $0.remove(Array(path.utf8)) }
    }

    /// Whether `name` is the unique first name of a lock file (`.NAME.lock.` and 16 hex digits).
    static func isUniqueName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count > 23, bytes.first == UInt8(ascii: ".") else { return false }
        let hex = bytes.suffix(16)
        let hexDigits = Array("0123456789abcdef".utf8)
        return hex.allSatisfy(hexDigits.contains) && bytes.dropLast(16).reversed().starts(with: Array(".lock.".utf8).reversed())
    }
}
