#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The few POSIX file operations the spool and the report need, with errors that name the path.
enum FileSystem {
    /// Creates `path` and its parents if missing; folders it creates get `mode` exactly (not the
    /// umask's), existing ones keep theirs.
    static func makeDirectory(_ path: String, mode: mode_t = 0o750) throws(FileSystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            // A few rounds: on GlusterFS two clients' racing mkdir can both answer EEXIST with no
            // folder made (gluster#2744); the next round makes it or finds it.
            for round in 1...8 {
                if mkdir(current, mode) == 0 {
                    if chmod(current, mode) != 0 { throw .current("set mode of folder", current) }
                    break
                }
                guard errno == EEXIST else { throw .current("create folder", current) }
                var info = stat()
                if stat(current, &info) == 0 || round == 8 { break }
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw .current("create folder", path) }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw FileSystemError(operation: "create folder", path: path, code: ENOTDIR) }
    }

    /// Flushes a folder's entries (after a rename or create) to disk.
    static func syncDirectory(_ path: String) throws(FileSystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .current("open folder", path) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw .current("sync folder", path) }
    }

    /// Moves `source` to `destination` without ever replacing an existing file.
    ///
    /// Returns false when `destination` already exists. Uses link + unlink, which is atomic
    /// for the destination on every POSIX file system, including NFS.
    ///
    /// A file the service may not link (a producer's file whose mode its owner changed, under
    /// `fs.protected_hardlinks`) is renamed instead, after checking the destination is free.
    static func moveNoReplace(_ source: String, to destination: String) throws(FileSystemError) -> Bool {
        if link(source, destination) != 0 {
            if errno == EEXIST { return false }
            if errno == EPERM {
                if access(destination, F_OK) == 0 { return false }
                if rename(source, destination) == 0 { return true }
                throw .current("rename", "\(source) -> \(destination)")
            }
            throw .current("link", "\(source) -> \(destination)")
        }
        if unlink(source) != 0 && errno != ENOENT {
            throw .current("unlink", source)
        }
        return true
    }

    /// Whether two paths name the same file (same device and inode).
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat()
        var sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }

    /// `ino:size:mtime` of an open file: tells a journal's own file from a later file of the same name.
    ///
    /// No device number: it differs per mount and per host, and a run on another host (or
    /// through another mount of a shared spool) must know the journal for its file's own.
    static func identity(of descriptor: Int32) -> String {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return "?" }
        #if canImport(Darwin)
        let mtime = info.st_mtimespec
        #else
        let mtime = info.st_mtim
        #endif
        return "\(info.st_ino):\(info.st_size):\(mtime.tv_sec).\(mtime.tv_nsec)"
    }

    /// Whether a journal's recorded identity is the file's `current` one; 0.4.0's, which led with
    /// the device number, is compared without it.
    static func sameIdentity(recorded: String, current: String) -> Bool {
        let parts = recorded.split(separator: ":", omittingEmptySubsequences: false)
        return (parts.count == 4 ? parts.dropFirst().joined(separator: ":") : recorded) == current
    }

    /// Opens `path`, creating it if missing (`O_CREAT` is added to `flags`); -1 with `errno` set on failure.
    ///
    /// Retried on `EEXIST`, which GlusterFS can answer to a create without `O_EXCL` racing with
    /// another client's (gluster#2744).
    static func openCreating(_ path: String, _ flags: Int32, mode: mode_t = 0o600) -> Int32 {
        var fd: Int32 = -1
        for _ in 0..<8 {
            fd = open(path, flags | O_CREAT, mode)
            if fd >= 0 || errno != EEXIST { return fd }
        }
        return fd
    }

    /// Opens a file for locking: read-write where allowed (NFS clients emulate flock with
    /// POSIX locks, which need write access for an exclusive lock), else read-only.
    static func openForLock(_ path: String, noFollow: Bool = false) -> Int32 {
        let flags = O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0)
        let fd = open(path, O_RDWR | flags)
        if fd >= 0 || (errno != EACCES && errno != EROFS && errno != EPERM) { return fd }
        return open(path, O_RDONLY | flags)
    }

    /// Whether `path` names the file open at `descriptor`.
    static func sameFile(_ path: String, descriptor: Int32) -> Bool {
        var sp = stat()
        var sd = stat()
        guard stat(path, &sp) == 0, fstat(descriptor, &sd) == 0 else { return false }
        return sp.st_dev == sd.st_dev && sp.st_ino == sd.st_ino
    }

    /// Writes `bytes` to `path` atomically: a temporary file in the same folder, fsync, rename, fsync of the folder.
    ///
    /// With `durable: false` (reports, which a later run rewrites anyway) the fsyncs are skipped:
    /// readers still never see a half-written file, but a power loss may lose the newest version.
    ///
    /// The temporary name is random and created with `O_EXCL | O_NOFOLLOW`, so nothing planted in
    /// the folder beforehand (a symlink, a file of the same name) is ever written through; the file
    /// gets `mode` exactly, whatever the umask.
    static func writeAtomically(_ bytes: some Collection<UInt8>, to path: String, durable: Bool = true, mode: mode_t = 0o640) throws(FileSystemError) {
        let folder = parent(of: path)
        var temporary = ""
        var fd: Int32 = -1
        for _ in 0..<8 {
            temporary = "\(folder)/.\(basename(of: path)).\(randomHex()).tmp"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .current("create", temporary) }
        if fchmod(fd, mode) != 0 {
            let error = FileSystemError.current("set mode of", temporary)
            close(fd)
            unlink(temporary)
            throw error
        }
        var failure: FileSystemError?
        if !writeAll(fd, bytes) { failure = .current("write", temporary) }
        if failure == nil && durable && fsync(fd) != 0 { failure = .current("sync", temporary) }
        close(fd)
        if let failure {
            unlink(temporary)
            throw failure
        }
        if rename(temporary, path) != 0 {
            let error = FileSystemError.current("rename", "\(temporary) -> \(path)")
            unlink(temporary)
            throw error
        }
        if durable { try syncDirectory(folder) }
    }

    /// The whole content of the regular file at `path` (a symbolic link is not followed when
    /// `noFollow`), of at most `maxBytes`; nil when it is missing. Anything else in its place (a
    /// FIFO, which is never waited on, a device, a folder) or a larger file is an error.
    static func readAll(_ path: String, noFollow: Bool = false, maxBytes: Int = 64 << 20) throws(FileSystemError) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | (noFollow ? O_NOFOLLOW : 0))
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw .current("open", path)
        }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw .current("stat", path) }
        guard (status.st_mode & S_IFMT) == S_IFREG else { throw FileSystemError(operation: "open", path: path, code: EINVAL) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { readDescriptor(fd, $0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .current("read", path)
            }
            if count == 0 { return data }
            guard data.count <= maxBytes - count else { throw FileSystemError(operation: "read", path: path, code: EFBIG) }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    /// The names in a folder, without `.` and `..` (and without names that are not UTF-8: `listing` has those).
    static func list(_ path: String) throws(FileSystemError) -> [String] {
        try listing(path).names
    }

    /// The names in a folder, without `.` and `..`; names that are not valid UTF-8 (which no path
    /// made from a `String` could open again) come apart, shown with U+FFFD for the bad bytes.
    static func listing(_ path: String) throws(FileSystemError) -> (names: [String], notUTF8: [String]) {
        guard let dir = opendir(path) else { throw .current("list folder", path) }
        defer { closedir(dir) }
        var names: [String] = []
        var notUTF8: [String] = []
        while let entry = readdir(dir) {
            let (name, valid) = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                let bytes = raw.prefix { $0 != 0 }
                if let name = String(validating: bytes, as: UTF8.self) { return (name, true) }
                return (String(decoding: bytes, as: UTF8.self), false)
            }
            if name == "." || name == ".." { continue }
            if valid { names.append(name) } else { notUTF8.append(name) }
        }
        return (names, notUTF8)
    }

    /// Sixteen random hex digits, for names no one can guess ahead.
    static func randomHex() -> String {
        let value = UInt64.random(in: 0...UInt64.max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Size and modification time of a regular file; nil if it is missing or not a regular file
    /// (a symbolic link is not followed).
    static func regularFileInfo(_ path: String) -> (size: Int64, modified: timespec)? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        #if canImport(Darwin)
        return (Int64(info.st_size), info.st_mtimespec)
        #else
        return (Int64(info.st_size), info.st_mtim)
        #endif
    }

    /// Writes every byte (retrying short writes and EINTR); false on an error, with `errno` set.
    static func writeAll(_ fd: Int32, _ bytes: some Collection<UInt8>) -> Bool {
        let array = Array(bytes)
        return array.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                offset += written
            }
            return true
        }
    }

    /// Closes a file descriptor (a name that does not clash with methods called `close`).
    static func closeDescriptor(_ fd: Int32) {
        close(fd)
    }

    /// One read(2) into `buffer`.
    static func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        read(fd, buffer.baseAddress, buffer.count)
    }

    /// Takes an exclusive lock on an open file without waiting; false when another process holds it.
    static func tryLock(_ fd: Int32, path: String) throws(FileSystemError) -> Bool {
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return true }
        if errno == EWOULDBLOCK || errno == EAGAIN { return false }
        throw .current("lock", path)
    }

    /// Sets a file's modification time (seconds since 1970).
    static func setModificationTime(_ path: String, seconds: Int64) throws(FileSystemError) {
        var times = [timespec(tv_sec: time_t(seconds), tv_nsec: 0), timespec(tv_sec: time_t(seconds), tv_nsec: 0)]
        guard utimensat(AT_FDCWD, path, &times, 0) == 0 else { throw .current("set time", path) }
    }

    /// Removes a file; a missing file is fine.
    static func remove(_ path: String) throws(FileSystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw .current("remove", path) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func basename(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }
}
