import Foundation

/// `runs.json` in the report folder: each kept run's headline figures, newest first.
///
/// It is a cache that keeps `index.html` fast to rebuild: the `run-<id>.json` files in the folder are
/// the truth. An entry whose run file is gone is dropped, and a run file without an entry (written by
/// an overlapping run whose update of `runs.json` lost the race) is read once to make one.
public struct RunIndex: Sendable, Codable, Equatable {
    public var schemaVersion: Int = 1
    public var runs: [Entry]

    public init(runs: [Entry]) {
        self.runs = runs
    }

    enum CodingKeys: String, CodingKey {
        case schemaVersion = "schema_version"
        case runs
    }

    /// One run's headline figures.
    public struct Entry: Sendable, Codable, Equatable {
        public var runID: String
        public var startedAt: String
        public var finishedAt: String
        public var durationMs: Int64
        public var dryRun: Bool
        public var outcome: RunVerdict
        /// How many problems stopped part of the run (the report's `errors`).
        public var errors: Int
        public var totals: RunReport.Totals

        enum CodingKeys: String, CodingKey {
            case runID = "run_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case durationMs = "duration_ms"
            case dryRun = "dry_run"
            case outcome, errors, totals
        }

        public init(_ report: RunReport) {
            runID = report.runID
            startedAt = report.startedAt
            finishedAt = report.finishedAt
            durationMs = report.durationMs
            dryRun = report.dryRun
            outcome = RunVerdict(report)
            errors = report.errors.count
            totals = report.totals
        }

        /// The entry for a `run-<id>.json` file's bytes; nil if they are not a run report.
        public init?(runJSON bytes: [UInt8]) {
            guard let head = try? JSONDecoder().decode(ReportHead.self, from: Data(bytes)), head.schemaVersion == 1 else { return nil }
            runID = head.runID
            startedAt = head.startedAt
            finishedAt = head.finishedAt
            durationMs = head.durationMs
            dryRun = head.dryRun
            outcome = RunVerdict(dryRun: head.dryRun, totals: head.totals, problems: head.errors.count)
            errors = head.errors.count
            totals = head.totals
        }
    }

    /// The part of a run report an entry needs; the rest of the file (endpoints, files, failures) is skipped.
    private struct ReportHead: Decodable {
        var schemaVersion: Int
        var runID: String
        var startedAt: String
        var finishedAt: String
        var durationMs: Int64
        var dryRun: Bool
        var totals: RunReport.Totals
        var errors: [String]

        enum CodingKeys: String, CodingKey {
            case schemaVersion = "schema_version"
            case runID = "run_id"
            case startedAt = "started_at"
            case finishedAt = "finished_at"
            case durationMs = "duration_ms"
            case dryRun = "dry_run"
            case totals, errors
        }
    }

    /// The index as pretty-printed JSON with a final newline.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes, .sortedKeys]
        // Encoding plain structs of strings and numbers cannot fail.
        guard var data = try? encoder.encode(self) else { return Array("{\"schema_version\":1,\"runs\":[]}\n".utf8) }
        data.append(0x0A)
        return Array(data)
    }

    /// The index in `bytes`; nil if they are not one (a damaged index is rebuilt from the run files).
    public static func decode(_ bytes: [UInt8]) -> RunIndex? {
        guard let index = try? JSONDecoder().decode(RunIndex.self, from: Data(bytes)), index.schemaVersion == 1 else { return nil }
        return index
    }
}
