#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What waits in the spool: files, bytes and the oldest file's time in `incoming/`, `deferred/`, `processing/`
/// and `failed/`, measured after a run.
struct SpoolBacklog: Sendable, Equatable {
    /// One folder's count.
    struct Folder: Sendable, Equatable {
        /// `incoming`, `deferred`, `processing` or `failed`.
        var name: String
        var files = 0
        var bytes: Int64 = 0
        /// The oldest counted file's modification time (seconds since 1970): when its producer handed it over,
        /// since moves keep it. Nil when the folder holds none.
        var oldestModified: Int64?
    }

    var folders: [Folder]

    /// Counts the ready files of `incoming/` (temporary names are a producer's, not yet handed over), the event
    /// files of `deferred/` and `processing/` (journals and failures, dot-named, are not counted) and the failed
    /// files of `failed/` (not their sidecars).
    ///
    /// A folder that does not exist counts as empty; nil when one cannot be listed.
    static func measure(_ spool: Spool) -> SpoolBacklog? {
        var folders: [Folder] = []
        let paths = [("incoming", spool.incoming), ("deferred", spool.deferred), ("processing", spool.processing), ("failed", spool.failed)]
        for (name, path) in paths {
            var folder = Folder(name: name)
            let names: [String]
            do {
                names = try FileSystem.list(path)
            } catch {
                guard error.code == ENOENT else { return nil }
                names = []
            }
            let counted = switch name {
            case "incoming": names.filter(Spool.isReadyName)
            case "failed": Spool.failedFileNames(in: Set(names))
            default: names.filter { !Spool.isHidden($0) }
            }
            for entry in counted {
                guard let info = FileSystem.regularFileInfo("\(path)/\(entry)") else { continue }
                folder.files += 1
                let (bytes, overflow) = folder.bytes.addingReportingOverflow(info.size)
                folder.bytes = overflow ? .max : bytes
                let modified = Int64(info.modified.tv_sec)
                folder.oldestModified = min(folder.oldestModified ?? modified, modified)
            }
            folders.append(folder)
        }
        return SpoolBacklog(folders: folders)
    }

    /// How long the oldest file of `folder` has waited at `now` (seconds since 1970), in whole seconds (file times
    /// are kept to the second): 0 for an empty folder or a file time in the future.
    static func age(_ folder: Folder, now: Double) -> Double {
        guard let oldest = folder.oldestModified else { return 0 }
        return max(0, (now - Double(oldest)).rounded(.down))
    }
}
