// Report stage. Takes a finished run's RunReport;
// gives reports/RUN.json and .html, latest.*, the index, and the metrics textfile.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes a run's report as `run-<id>.json` and `run-<id>.html`, updates `latest.*`, `runs.json` and
/// `index.html`, and prunes the reports of runs beyond `keep`.
///
/// Every file is written atomically (a temporary name in the same folder, then a rename), so a reader
/// never sees half a report, and runs that overlap never corrupt each other's files.
public struct ReportWriter: Sendable {
    /// Paths of the files written.
    public struct Written: Sendable, Equatable {
        public var json: String
        public var html: String
    }

    /// How many runs' reports `report.keep` keeps when the config does not say.
    public static let defaultKeep = Config.defaultReportKeep

    /// The report folder (absolute).
    public let directory: String
    /// How many runs' `run-<id>.*` files to keep, newest first; at least 1.
    public let keep: Int

    public init(directory: String, keep: Int = ReportWriter.defaultKeep) {
        self.directory = directory
        self.keep = max(1, keep)
    }

    /// Writes every file; `updateLatest` is false for dry runs, so `latest.*` always shows a real run.
    ///
    /// - Throws: `FileSystemError` when the folder cannot be created or written, or an old report cannot be deleted.
    public func write(_ report: RunReport, updateLatest: Bool = true) throws(FileSystemError) -> Written {
        try FileSystem.makeDirectory(directory)
        // With 1,000 endpoints each of the two takes some 20 ms, at the end of the run.
        let (json, html) = sideBySide({ Self.encode(report) }, { Array(HTMLReport.render(report).utf8) })
        let jsonPath = "\(directory)/run-\(report.runID).json"
        let htmlPath = "\(directory)/run-\(report.runID).html"
        try FileSystem.writeAtomically(json, to: jsonPath, durable: false)
        try FileSystem.writeAtomically(html, to: htmlPath, durable: false)
        if updateLatest {
            try FileSystem.writeAtomically(json, to: "\(directory)/latest.json", durable: false)
            try FileSystem.writeAtomically(html, to: "\(directory)/latest.html", durable: false)
        }
        try updateIndex(adding: report)
        return Written(json: jsonPath, html: htmlPath)
    }

    /// The report as pretty-printed JSON with a final newline.
    public static func encode(_ report: RunReport) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        // Encoding plain structs of strings and numbers cannot fail.
        guard var data = try? encoder.encode(report) else { return Array("{}\n".utf8) }
        data.append(0x0A)
        return Array(data)
    }

    /// Whether `id` can stand in a file name and a relative link as it is: letters, digits, `-`, `_`, `.`.
    static func isLinkableRunID(_ id: String) -> Bool {
        !id.isEmpty && !id.hasPrefix(".")
            && id.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// Rewrites `runs.json` and `index.html` for the runs in the folder, then deletes those beyond `keep`.
    ///
    /// The folder's `run-<id>.*` files decide which runs exist; `runs.json` only saves reading them.
    /// Runs that had nothing to do (no file, no problem) are kept only while one is the newest of
    /// them, so a timer that fires every minute cannot push the runs that did something out.
    private func updateIndex(adding report: RunReport) throws(FileSystemError) {
        var runIDs: Set<String> = [report.runID]
        var withJSON: Set<String> = []
        for name in try FileSystem.list(directory) where name.hasPrefix("run-") {
            for suffix in [".json", ".html"] where name.hasSuffix(suffix) {
                let id = String(name.dropFirst(4).dropLast(suffix.count))
                guard Self.isLinkableRunID(id) else { continue }
                runIDs.insert(id)
                if suffix == ".json" { withJSON.insert(id) }
            }
        }
        let cached = readIndex()
        var entries: [String: RunIndex.Entry] = [report.runID: RunIndex.Entry(report)]
        for id in runIDs where id != report.runID {
            if let entry = cached[id] {
                entries[id] = entry
            } else if withJSON.contains(id), let bytes = FileManager.default.contents(atPath: "\(directory)/run-\(id).json"),
                let entry = RunIndex.Entry(runJSON: Array(bytes)), entry.runID == id
            {
                entries[id] = entry
            }
        }
        // Newest first: by start time (the report's `started_at`, compared as a time, to the
        // millisecond), then by run id. A run without a readable report goes by the time its id
        // starts with; one without either counts as the oldest.
        func key(_ id: String) -> (Int64, String) {
            (entries[id].flatMap { RFC3339.milliseconds($0.startedAt) } ?? Self.milliseconds(runID: id) ?? .min, id)
        }
        let newestFirst = runIDs.sorted { key($0) > key($1) }

        var kept: [String] = []
        var pruned: [String] = []
        var keptIdle = false
        for id in newestFirst {
            let idle = entries[id].map { $0.totals.files == 0 && $0.errors == 0 } ?? false
            if id == report.runID {
                // The run just written is kept even when a clock step makes it sort among the old ones.
                kept.append(id)
            } else if (idle && keptIdle) || kept.count >= keep {
                pruned.append(id)
                continue
            } else {
                kept.append(id)
            }
            if idle { keptIdle = true }
        }

        let index = RunIndex(runs: kept.compactMap { entries[$0] })
        try FileSystem.writeAtomically(index.encoded(), to: "\(directory)/runs.json", durable: false)
        let hasLatest = access("\(directory)/latest.html", F_OK) == 0
        try FileSystem.writeAtomically(Array(HTMLIndex.render(index, hasLatest: hasLatest).utf8), to: "\(directory)/index.html", durable: false)

        // An overlapping run may prune the same files: a file already gone is fine.
        var failure: FileSystemError?
        for id in pruned {
            for suffix in [".json", ".html"] {
                let path = "\(directory)/run-\(id)\(suffix)"
                if unlink(path) != 0 && errno != ENOENT && failure == nil {
                    failure = .current("delete old report", path)
                }
            }
        }
        if let failure { throw failure }
    }

    /// Milliseconds since 1970 of the second a run id such as `20261129T051500Z-3fa2` starts with; nil for another id.
    static func milliseconds(runID id: String) -> Int64? {
        let b = Array(id.utf8)
        guard b.count >= 16, b[8] == UInt8(ascii: "T"), b[15] == UInt8(ascii: "Z") else { return nil }
        let s = { (range: Range<Int>) in String(decoding: b[range], as: UTF8.self) }
        return RFC3339.milliseconds("\(s(0..<4))-\(s(4..<6))-\(s(6..<8))T\(s(9..<11)):\(s(11..<13)):\(s(13..<15))Z")
    }

    /// The entries of `runs.json` by run id; empty when it is missing or damaged.
    private func readIndex() -> [String: RunIndex.Entry] {
        guard let bytes = FileManager.default.contents(atPath: "\(directory)/runs.json"), let index = RunIndex.decode(Array(bytes)) else {
            return [:]
        }
        var entries: [String: RunIndex.Entry] = [:]
        for entry in index.runs { entries[entry.runID] = entry }
        return entries
    }
}
