#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an entry a producer left in a spool folder is not taken as a spool file.
public enum SpoolRefusal: Sendable, Equatable, CustomStringConvertible {
    case symbolicLink
    case fifo
    case socket
    case device
    case folder
    case otherType
    /// A regular file with more than one name: it may be someone else's file, linked in.
    case hardLinked(links: Int)
    /// The service may not read it (the producer made it without group read).
    case unreadable
    /// Held under a lease by a process that has it open (`F_SETLEASE`): opening it would wait.
    case leased
    /// Larger than `limits.max_file_bytes` (a sparse file can claim any size).
    case tooLarge(bytes: Int64, limit: Int64)
    /// Its name is not UTF-8.
    case nameNotUTF8
    /// Its name leaves no room for the helper files beside it (`Spool.maxNameBytes`).
    case nameTooLong(bytes: Int)

    public var description: String {
        switch self {
        case .symbolicLink: return "a symbolic link (never followed)"
        case .fifo: return "a FIFO"
        case .socket: return "a socket"
        case .device: return "a device"
        case .folder: return "a folder"
        case .otherType: return "not a regular file"
        case .hardLinked(let links): return "a file with \(links) hard links (only a file with one name is taken)"
        case .unreadable: return "not readable by the service (producers must make files group-readable)"
        case .leased: return "held under a lease by a process that has it open"
        case .tooLarge(let bytes, let limit): return "a file of \(bytes) bytes (limits.max_file_bytes is \(limit))"
        case .nameNotUTF8: return "a name that is not UTF-8"
        case .nameTooLong(let bytes): return "a name of \(bytes) bytes (at most \(Spool.maxNameBytes))"
        }
    }

    /// The refusal for a file of this type, or nil for a regular file.
    static func forType(_ mode: mode_t) -> SpoolRefusal? {
        switch mode & S_IFMT {
        case S_IFREG: return nil
        case S_IFLNK: return .symbolicLink
        case S_IFIFO: return .fifo
        case S_IFSOCK: return .socket
        case S_IFCHR, S_IFBLK: return .device
        case S_IFDIR: return .folder
        default: return .otherType
        }
    }
}

/// A spool file opened for reading, with what `fstat` said of it then.
struct OpenedSpoolFile: Sendable {
    var descriptor: Int32
    /// Its size when opened: a run reads no further, however the file grows.
    var size: Int64
    var modified: timespec
}

/// What opening a name in a spool folder gave.
enum SpoolFileOpening {
    case opened(OpenedSpoolFile)
    /// Gone (another run claimed it, or its producer took it back).
    case missing
    case refused(SpoolRefusal)
    case failed(FileSystemError)
}

extension FileSystem {
    /// Opens `name` in `folder` as a spool file, without ever following a symbolic link, blocking on
    /// a FIFO or device, or taking a terminal: `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY`, relative to the
    /// folder, and then the opened descriptor must be a regular file (with one link, if `singleLink`).
    static func openSpoolFile(_ name: String, in folder: String, singleLink: Bool) -> SpoolFileOpening {
        let folderFD = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard folderFD >= 0 else { return .failed(.current("open folder", folder)) }
        defer { close(folderFD) }
        let fd = openat(folderFD, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            switch code {
            case ENOENT: return .missing
            case ELOOP: return .refused(.symbolicLink)
            case EACCES, EPERM: return .refused(.unreadable)
            case EWOULDBLOCK, ETXTBSY: return .refused(.leased)
            default:
                // ENXIO (a socket), EWOULDBLOCK (a lease), …: say what the name is, if it is not a file.
                var info = stat()
                if fstatat(folderFD, name, &info, AT_SYMLINK_NOFOLLOW) == 0, let refusal = SpoolRefusal.forType(info.st_mode) {
                    return .refused(refusal)
                }
                return .failed(FileSystemError(operation: "open", path: "\(folder)/\(name)", code: code))
            }
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = FileSystemError.current("stat", "\(folder)/\(name)")
            close(fd)
            return .failed(error)
        }
        if let refusal = SpoolRefusal.forType(info.st_mode) {
            close(fd)
            return .refused(refusal)
        }
        if singleLink && info.st_nlink != 1 {
            close(fd)
            return .refused(.hardLinked(links: Int(clamping: info.st_nlink)))
        }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        return .opened(OpenedSpoolFile(descriptor: fd, size: Int64(info.st_size), modified: modified))
    }

    /// What `lstat` says of an entry a producer left: nil for a regular file with one link, else why it is refused;
    /// `missing` when it is gone.
    static func inspectEntry(_ path: String, singleLink: Bool) -> (refusal: SpoolRefusal?, missing: Bool) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return (nil, true) }
        if let refusal = SpoolRefusal.forType(info.st_mode) { return (refusal, false) }
        if singleLink && info.st_nlink != 1 { return (.hardLinked(links: Int(clamping: info.st_nlink)), false) }
        return (nil, false)
    }
}
