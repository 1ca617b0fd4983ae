import Synchronization

/// A spool file this run owns: open, and locked so that no other run works on it.
///
/// The lock is taken before the file is moved into `processing/`, and held until the file has
/// left it; a file in `processing/` whose lock can be taken has lost its owner.
public final class ClaimedFile: Sendable {
    /// Its name in `processing/`.
    public let name: String
    /// Its path in `processing/`.
    public let path: String
    /// The open, locked descriptor; read the file through it (closing another descriptor of the
    /// same file could drop the lock on file systems that emulate flock with POSIX locks).
    let descriptor: Int32
    private let open = Mutex(true)

    init(name: String, path: String, descriptor: Int32) {
        self.name = name
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        release()
    }

    /// Closes the descriptor, which drops the lock.
    func release() {
        let wasOpen = open.withLock { isOpen in
            defer { isOpen = false }
            return isOpen
        }
        if wasOpen { FileSystem.closeDescriptor(descriptor) }
    }
}
