#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Whether standard error is systemd's journal, which reads a leading `<N>` on each line as its syslog priority.
public enum JournalStream {
    /// True when `JOURNAL_STREAM` (`DEVICE:INODE`, as systemd sets it for a service's standard
    /// streams) names the file open as standard error: not merely inherited by a child whose
    /// standard error was redirected elsewhere.
    public static func isStandardError(environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(2, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// The syslog priority of a log level, as `sd-daemon(3)` prefixes write it: `<3>` error, `<4>`
    /// warning, `<5>` notice, `<6>` info, `<7>` debug and trace, `<2>` critical.
    public static func prefix(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "<7>"
        case .info: "<6>"
        case .notice: "<5>"
        case .warning: "<4>"
        case .error: "<3>"
        case .critical: "<2>"
        }
    }
}
