#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The spool folder: producers drop files in `incoming/`, runs claim them into `processing/` and finish them in `done/` or `failed/`.
public struct Spool: Sendable {
    /// The spool's root folder (absolute).
    public let root: String

    public init(root: String) {
        self.root = root
    }

    public var incoming: String { root + "/incoming" }
    public var processing: String { root + "/processing" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }

    /// Creates the spool's folders if they are missing.
    public func prepare() throws(FileSystemError) {
        for folder in [incoming, processing, done, failed] {
            try FileSystem.makeDirectory(folder)
        }
    }

    /// Whether a producer's file name is ready to be read: `.ndjson` or `.jsonl`, and not a temporary name.
    public static func isReadyName(_ name: String) -> Bool {
        if name.hasPrefix(".") || name.hasSuffix(".tmp") { return false }
        return name.hasSuffix(".ndjson") || name.hasSuffix(".jsonl")
    }

    /// The ready files in `incoming/`, oldest first (by modification time, then name); other names are returned as ignored.
    public func readyFiles() throws(FileSystemError) -> (ready: [SpoolEntry], ignored: [String]) {
        var ready: [SpoolEntry] = []
        var ignored: [String] = []
        for name in try FileSystem.list(incoming) {
            if name.hasPrefix(".") || name.hasSuffix(".tmp") { continue }
            guard Spool.isReadyName(name), let info = FileSystem.regularFileInfo("\(incoming)/\(name)") else {
                ignored.append(name)
                continue
            }
            ready.append(SpoolEntry(name: name, size: info.size, modified: info.modified))
        }
        ready.sort { ($0.modified.tv_sec, $0.modified.tv_nsec, $0.name) < ($1.modified.tv_sec, $1.modified.tv_nsec, $1.name) }
        return (ready, ignored.sorted())
    }

    /// Claims a ready file by moving it into `processing/`.
    public func claim(_ entry: SpoolEntry) throws(FileSystemError) -> ClaimResult {
        let source = "\(incoming)/\(entry.name)"
        let destination = "\(processing)/\(entry.name)"
        let moved: Bool
        do {
            moved = try FileSystem.moveNoReplace(source, to: destination)
        } catch where error.code == ENOENT {
            return .alreadyClaimed
        }
        if moved {
            try FileSystem.syncDirectory(processing)
            try FileSystem.syncDirectory(incoming)
            return .claimed(path: destination)
        }
        // The name is taken in processing/. If it is this very file, an earlier claim stopped
        // between link and unlink: the processing/ copy is the claimed one.
        if FileSystem.sameFile(source, destination) {
            unlink(source)
            return .alreadyClaimed
        }
        return .nameBusy
    }

    /// Moves a finished file (and its failures sidecar, if any) to `done/` or `failed/`.
    ///
    /// The file keeps its name unless that name is taken there; then `-<run id>` goes before the extension.
    /// Returns the new path relative to the spool root, e.g. `failed/orders-1.ndjson`.
    public func finish(name: String, outcome: FileOutcome, runID: String) throws(FileSystemError) -> String {
        let folderName = outcome == .done ? "done" : "failed"
        let folder = outcome == .done ? done : failed
        let source = "\(processing)/\(name)"
        let sidecarSource = "\(processing)/\(Spool.sidecarName(for: name))"
        var finalName = name
        if !(try FileSystem.moveNoReplace(source, to: "\(folder)/\(finalName)")) {
            finalName = Spool.alternativeName(for: name, suffix: runID)
            guard try FileSystem.moveNoReplace(source, to: "\(folder)/\(finalName)") else {
                throw FileSystemError(operation: "move", path: "\(folder)/\(finalName)", code: EEXIST)
            }
        }
        if access(sidecarSource, F_OK) == 0 {
            let sidecarDestination = "\(folder)/\(Spool.sidecarName(for: finalName))"
            if !(try FileSystem.moveNoReplace(sidecarSource, to: sidecarDestination)) {
                throw FileSystemError(operation: "move", path: sidecarDestination, code: EEXIST)
            }
        }
        try FileSystem.syncDirectory(folder)
        try FileSystem.syncDirectory(processing)
        return "\(folderName)/\(finalName)"
    }

    /// `orders-1.ndjson` → `orders-1.failures.ndjson`.
    public static func sidecarName(for name: String) -> String {
        "\(stem(of: name)).failures.ndjson"
    }

    static func alternativeName(for name: String, suffix: String) -> String {
        let stem = stem(of: name)
        return "\(stem)-\(suffix)\(name.dropFirst(stem.count))"
    }

    static func stem(of name: String) -> String {
        for ext in [".ndjson", ".jsonl"] where name.hasSuffix(ext) {
            return String(name.dropLast(ext.count))
        }
        return name
    }
}

/// A ready file in `incoming/`.
public struct SpoolEntry: Sendable {
    public var name: String
    public var size: Int64
    public var modified: timespec
}

/// What happened when a run tried to claim a file.
public enum ClaimResult: Sendable, Equatable {
    /// This run owns the file now, at `path`.
    case claimed(path: String)
    /// Another run claimed it first.
    case alreadyClaimed
    /// A different file of the same name is in `processing/`; try again in a later run.
    case nameBusy
}

/// Where a finished file goes.
public enum FileOutcome: String, Sendable, Codable {
    case done
    case failed
    case deferred
}
