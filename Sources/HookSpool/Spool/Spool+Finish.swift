#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// Moves a finished file out of processing/ into done/, failed/ or deferred/.
extension Spool {
    /// Moves a finished file out of `processing/`.
    ///
    /// To `done/`: the file alone (its journal is removed). To `failed/`: the file,
    /// `NAME.failures.ndjson`, and the journal (hidden, for `replay`). To `deferred/`: the file, its journal and failures so far, with
    /// the journal's modification time set to `nextAttempt`. A name already taken in the
    /// destination gets `-<run id>` before its extension; nothing is ever overwritten.
    /// Returns the new path relative to the spool root, e.g. `failed/orders-1.ndjson`.
    ///
    /// With `syncFolders: false` the moves are left for the caller to make durable: it syncs
    /// `folder(for: outcome)` and `processing`.
    public func finish(
        _ file: ClaimedFile, outcome: FileOutcome, runID: String, nextAttempt: Int64? = nil, syncFolders: Bool = true
    ) throws(FileSystemError) -> String {
        let name = file.name
        let folderName = outcome.rawValue
        let folder = self.folder(for: outcome)
        let journal = "\(processing)/\(Spool.journalName(for: name))"
        let failures = "\(processing)/\(Spool.pendingFailuresName(for: name))"
        var finalName = name
        if outcome == .deferred {
            // The file first, then its helpers: a crash in between leaves the journal in processing/,
            // where claiming the file back from deferred/ finds it (its header names the file).
            finalName = try freeName(name, in: folder, runID: runID) { candidate in
                access("\(folder)/\(candidate)", F_OK) != 0 && access("\(folder)/\(Spool.journalName(for: candidate))", F_OK) != 0
            }
            if let nextAttempt, access(journal, F_OK) == 0 {
                try FileSystem.setModificationTime(journal, seconds: nextAttempt)
            }
            guard try FileSystem.moveNoReplace(file.path, to: "\(folder)/\(finalName)") else {
                throw FileSystemError(operation: "move", path: "\(folder)/\(finalName)", code: EEXIST)
            }
            for (from, to) in [(journal, Spool.journalName(for: finalName)), (failures, Spool.pendingFailuresName(for: finalName))] where access(from, F_OK) == 0 {
                guard try FileSystem.moveNoReplace(from, to: "\(folder)/\(to)") else {
                    throw FileSystemError(operation: "move", path: "\(folder)/\(to)", code: EEXIST)
                }
            }
        } else {
            finalName = try freeName(name, in: folder, runID: runID) { candidate in
                access("\(folder)/\(candidate)", F_OK) != 0 && access("\(folder)/\(Spool.sidecarName(for: candidate))", F_OK) != 0
            }
            // The file first: a crash before its helpers follow leaves them in processing/, where
            // their header tells them apart from any later file of the same name.
            guard try FileSystem.moveNoReplace(file.path, to: "\(folder)/\(finalName)") else {
                throw FileSystemError(operation: "move", path: "\(folder)/\(finalName)", code: EEXIST)
            }
            if outcome == .failed, access(failures, F_OK) == 0 {
                guard try FileSystem.moveNoReplace(failures, to: "\(folder)/\(Spool.sidecarName(for: finalName))") else {
                    throw FileSystemError(operation: "move", path: "\(folder)/\(Spool.sidecarName(for: finalName))", code: EEXIST)
                }
            }
            if outcome == .failed, access(journal, F_OK) == 0 {
                // Kept (hidden) so that a replay knows the name the file's ids were derived from.
                try FileSystem.remove("\(folder)/\(Spool.journalName(for: finalName))")
                _ = try FileSystem.moveNoReplace(journal, to: "\(folder)/\(Spool.journalName(for: finalName))")
            }
            try FileSystem.remove(failures)
            try FileSystem.remove(journal)
        }
        if syncFolders {
            try FileSystem.syncDirectory(folder)
            try FileSystem.syncDirectory(processing)
        }
        return "\(folderName)/\(finalName)"
    }

    /// The folder a finished file goes to.
    public func folder(for outcome: FileOutcome) -> String {
        switch outcome {
        case .done: return done
        case .failed: return failed
        case .deferred: return deferred
        }
    }

    private func freeName(_ name: String, in folder: String, runID: String, isFree: (String) -> Bool) throws(FileSystemError) -> String {
        if isFree(name) { return name }
        let alternative = Spool.alternativeName(for: name, suffix: runID)
        if isFree(alternative) { return alternative }
        throw FileSystemError(operation: "move", path: "\(folder)/\(alternative)", code: EEXIST)
    }
}
