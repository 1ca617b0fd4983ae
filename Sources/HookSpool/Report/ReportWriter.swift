import Foundation

/// Writes a run's report as `run-<id>.json` and `run-<id>.html`, updates `latest.*` and `index.html`.
public struct ReportWriter: Sendable {
    /// Paths of the files written.
    public struct Written: Sendable, Equatable {
        public var json: String
        public var html: String
    }

    /// The report folder (absolute).
    public let directory: String

    public init(directory: String) {
        self.directory = directory
    }

    /// Writes every file atomically; `updateLatest` is false for dry runs, so `latest.*` always shows a real run.
    public func write(_ report: RunReport, updateLatest: Bool = true) throws(FileSystemError) -> Written {
        try FileSystem.makeDirectory(directory)
        let json = Self.encode(report)
        let html = Array(HTMLReport.render(report).utf8)
        let jsonPath = "\(directory)/run-\(report.runID).json"
        let htmlPath = "\(directory)/run-\(report.runID).html"
        try FileSystem.writeAtomically(json, to: jsonPath)
        try FileSystem.writeAtomically(html, to: htmlPath)
        if updateLatest {
            try FileSystem.writeAtomically(json, to: "\(directory)/latest.json")
            try FileSystem.writeAtomically(html, to: "\(directory)/latest.html")
        }
        let runs = try FileSystem.list(directory)
            .filter { $0.hasPrefix("run-") && $0.hasSuffix(".html") }
            .map { String($0.dropFirst(4).dropLast(5)) }
            .sorted(by: >)
        try FileSystem.writeAtomically(Array(HTMLReport.renderIndex(runIDs: runs).utf8), to: "\(directory)/index.html")
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
}
