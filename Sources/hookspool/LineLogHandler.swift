import Foundation
import HookSpool
import Logging

/// A swift-log handler that writes each record as one `logfmt` or `json` line to standard error.
///
/// Lines go through `StandardErrorTerminal`, so a progress line on a terminal stays below them.
/// With `priority` (`--log-priority`, or standard error is the journal) each line starts with its
/// syslog priority (`<3>` …).
struct LineLogHandler: LogHandler {
    let format: LogLineFormat
    let terminal: StandardErrorTerminal
    /// Whether each line starts with its syslog priority.
    let priority: Bool
    /// Standard error is the journal, checked once per process.
    static let toJournal = JournalStream.isStandardError(environment: ProcessInfo.processInfo.environment)
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(format: LogLineFormat, priority: Bool = toJournal, terminal: StandardErrorTerminal = .shared, metadataProvider: Logger.MetadataProvider? = nil) {
        self.format = format
        self.priority = priority
        self.terminal = terminal
        self.metadataProvider = metadataProvider
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata {
            merged.merge(explicit) { _, new in new }
        }
        if let error = event.error, merged["error"] == nil {
            merged["error"] = "\(error)"
        }
        let line = format.line(time: Date(), level: event.level, message: event.message.description, metadata: merged)
        terminal.writeLine(priority ? JournalStream.prefix(event.level) + line : line)
    }
}
