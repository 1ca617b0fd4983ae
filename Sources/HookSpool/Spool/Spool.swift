// Spool stage. Takes the files producers renamed into incoming/ (and what earlier runs left);
// gives claimed files read line by line as events, their journals, and each finished file moved to done/, failed/ or deferred/.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The spool folder: producers drop files in `incoming/`; runs claim them into `processing/`
/// and finish them in `done/`, `failed/` or `deferred/`.
///
/// Beside a file in `processing/` or `deferred/` live its journal (`.NAME.journal`) and its
/// failures so far (`.NAME.failures.ndjson`); the leading dot keeps them apart from producers' names.
public struct Spool: Sendable {
    /// The spool's root folder (absolute).
    public let root: String

    /// The largest file claimed from `incoming/` (`limits.max_file_bytes`).
    public var maxFileBytes: Int64

    public init(root: String, maxFileBytes: Int = Limits.defaultMaxFileBytes) {
        self.root = root
        self.maxFileBytes = Int64(maxFileBytes)
    }

    public var incoming: String { root + "/incoming" }
    public var processing: String { root + "/processing" }
    public var deferred: String { root + "/deferred" }
    public var done: String { root + "/done" }
    public var failed: String { root + "/failed" }

    /// Longest name of a spool file, in bytes: the helper files beside it (`.NAME.journal`,
    /// `.NAME-<run id>.ndjson.journal.stale-<run id>`, …) must stay within NAME_MAX (255).
    public static let maxNameBytes = 190

    /// Creates the spool's folders if they are missing, readable by the service's user alone
    /// (0700; `incoming/` too, until the operator opens it to producers). An `incoming/` the service
    /// owns that others may write gets the sticky bit, so no producer can delete or replace
    /// another's files.
    public func prepare() throws(FileSystemError) {
        for folder in [incoming, processing, deferred, done, failed] {
            try FileSystem.makeDirectory(folder, mode: 0o700)
        }
        var info = stat()
        if stat(incoming, &info) == 0, info.st_uid == geteuid(), info.st_mode & (S_IWGRP | S_IWOTH) != 0, info.st_mode & S_ISVTX == 0 {
            if chmod(incoming, (info.st_mode & 0o7777) | S_ISVTX) != 0 { throw .current("set the sticky bit of", incoming) }
        }
    }

    /// Whether a producer's file name is ready to be read: `.ndjson` or `.jsonl`, and not a temporary name.
    public static func isReadyName(_ name: String) -> Bool {
        if isHidden(name) || endsWith(name, ".tmp") { return false }
        return endsWith(name, ".ndjson") || endsWith(name, ".jsonl")
    }

    /// The event files among the names of `failed/`: ready names with a sidecar beside them.
    static func failedFileNames(in names: Set<String>) -> [String] {
        names.filter { isReadyName($0) && names.contains(sidecarName(for: $0)) && $0 != sidecarName(for: $0) }
    }

    /// Whether a name's first byte is a dot: a producer's temporary name, or one of hookspool's
    /// helpers. Bytes, not characters: `"." + "\u{301}x"` is one character that is not `"."`.
    static func isHidden(_ name: String) -> Bool {
        name.utf8.first == UInt8(ascii: ".")
    }

    /// Whether a name's bytes end with `suffix`'s.
    static func endsWith(_ name: String, _ suffix: String) -> Bool {
        name.utf8.count >= suffix.utf8.count && name.utf8.reversed().starts(with: suffix.utf8.reversed())
    }

    /// `orders-1.ndjson` → `orders-1.failures.ndjson`, the sidecar in `failed/`.
    public static func sidecarName(for name: String) -> String {
        "\(stem(of: name)).failures.ndjson"
    }

    /// `orders-1.ndjson` → `.orders-1.ndjson.journal`.
    static func journalName(for name: String) -> String {
        ".\(name).journal"
    }

    /// `orders-1.ndjson` → `.orders-1.ndjson.failures`, the failures so far while in `processing/` or `deferred/`.
    static func pendingFailuresName(for name: String) -> String {
        ".\(name).failures"
    }

    /// Whether a file named `name` waits in `processing/` or `deferred/` (another than the one in `incoming/`).
    func holdsOther(named name: String) -> Bool {
        FileSystem.regularFileInfo("\(processing)/\(name)") != nil || FileSystem.regularFileInfo("\(deferred)/\(name)") != nil
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

/// A file in `incoming/` or `deferred/` that a run may claim.
public struct SpoolEntry: Sendable {
    /// Which folder it is in.
    public enum Folder: Sendable {
        case incoming
        case deferred
    }

    public var name: String
    public var size: Int64
    public var modified: timespec
    public var folder: Folder
}

/// What happened when a run tried to claim a file.
public enum ClaimResult: Sendable {
    /// This run owns the file now.
    case claimed(ClaimedFile)
    /// Another run claimed it first.
    case alreadyClaimed
    /// A different file of the same name is in `processing/`; try again in a later run.
    case nameBusy
    /// Not a spool file (a symbolic link, a FIFO, a hard-linked file, …): left where it is.
    case refused(SpoolRefusal)
}

/// A name in `incoming/` that a run refused to read, and why.
public struct RefusedEntry: Sendable, Equatable {
    public var name: String
    public var reason: SpoolRefusal
}

/// Where a finished file goes.
public enum FileOutcome: String, Sendable, Codable {
    case done
    case failed
    case deferred
}
