#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What waits in the spool: files and bytes in `incoming/`, `deferred/` and `processing/`, measured after a run.
struct SpoolBacklog: Sendable, Equatable {
    /// One folder's count.
    struct Folder: Sendable, Equatable {
        /// `incoming`, `deferred` or `processing`.
        var name: String
        var files = 0
        var bytes: Int64 = 0
    }

    var folders: [Folder]

    /// Counts the ready files of `incoming/` (temporary names are a producer's, not yet handed over) and the
    /// event files of `deferred/` and `processing/` (journals and failures, dot-named, are not counted).
    ///
    /// A folder that does not exist counts as empty; nil when one cannot be listed.
    static func measure(_ spool: Spool) -> SpoolBacklog? {
        var folders: [Folder] = []
        for (name, path) in [("incoming", spool.incoming), ("deferred", spool.deferred), ("processing", spool.processing)] {
            var folder = Folder(name: name)
            let names: [String]
            do {
                names = try FileSystem.list(path)
            } catch {
                guard error.code == ENOENT else { return nil }
                names = []
            }
            for entry in names {
                let counted = name == "incoming" ? Spool.isReadyName(entry) : !entry.hasPrefix(".")
                guard counted, let info = FileSystem.regularFileInfo("\(path)/\(entry)") else { continue }
                folder.files += 1
                folder.bytes += info.size
            }
            folders.append(folder)
        }
        return SpoolBacklog(folders: folders)
    }
}
