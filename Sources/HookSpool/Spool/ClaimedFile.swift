#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A spool file this run owns: open, and its name locked so that no other run works on it.
///
/// The lock (`SpoolLock`, in `processing/`) is taken before the file is moved into `processing/`,
/// and held until the file has left it; a file in `processing/` whose lock can be taken has lost its owner.
public final class ClaimedFile: Sendable {
    /// Its name in `processing/`.
    public let name: String
    /// Its path in `processing/`.
    public let path: String
    /// The open descriptor, opened without following links; read the file through it.
    let descriptor: Int32
    /// Its size when claimed: a run reads no further.
    let size: Int64
    /// Its modification time when claimed (the default `timestamp` of its events).
    let modified: timespec
    private let lock: SpoolLock
    private let open = Mutex(true)

    init(name: String, path: String, file: OpenedSpoolFile, lock: SpoolLock) {
        self.name = name
        self.path = path
        self.descriptor = file.descriptor
        self.size = file.size
        self.modified = file.modified
        self.lock = lock
    }

    deinit {
        release()
    }

    /// Drops the lock and closes the file.
    func release() {
        let wasOpen = open.withLock { isOpen in
            defer { isOpen = false }
            return isOpen
        }
        guard wasOpen else { return }
        lock.release()
        FileSystem.closeDescriptor(descriptor)
    }
}
