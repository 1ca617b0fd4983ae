#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Standard error shared by log lines and, on a terminal, one live status line kept below them.
///
/// A log line first clears the status line, then is written, then the status line is drawn again,
/// so the two never mix. Every write happens under one lock, in order.
final class StandardErrorTerminal: Sendable {
    /// The process's standard error.
    static let shared = StandardErrorTerminal()

    /// Whether standard error is a terminal (where a status line may be drawn).
    static var isTerminal: Bool { isatty(2) == 1 }

    /// The status line on screen now, if any.
    private let status = Mutex<String?>(nil)

    /// Writes one line (a newline is added), keeping the status line below it.
    func writeLine(_ line: String) {
        status.withLock { shown in
            var text = shown == nil ? "" : "\r\u{1B}[K"
            text += line + "\n"
            if let shown { text += shown }
            FileHandleStream.writeStandardError(text)
        }
    }

    /// Draws (or redraws) the status line in place, cut to the terminal's width so it never wraps.
    func showStatus(_ line: String) {
        let fitted = String(line.prefix(max(10, Self.columns - 1)))
        status.withLock { shown in
            shown = fitted
            FileHandleStream.writeStandardError("\r\u{1B}[K" + fitted)
        }
    }

    /// Removes the status line.
    func clearStatus() {
        status.withLock { shown in
            guard shown != nil else { return }
            shown = nil
            FileHandleStream.writeStandardError("\r\u{1B}[K")
        }
    }

    /// The terminal's width in columns; 80 when it cannot be told.
    private static var columns: Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }
}
