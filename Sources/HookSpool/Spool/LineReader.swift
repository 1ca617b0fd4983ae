#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a file line by line in fixed-size chunks, so memory stays bounded whatever the file's size.
///
/// Lines longer than `maxLineBytes` are skipped without being buffered and reported as oversized.
final class LineReader {
    /// One line of the file, valid only inside the closure it is passed to.
    enum Line {
        /// The line's bytes without the line break (and without a trailing `\r`).
        case text(number: Int, bytes: UnsafeRawBufferPointer)
        /// A line over the limit; `length` is its size in bytes.
        case oversized(number: Int, length: Int)
    }

    private let fd: Int32
    private let ownsDescriptor: Bool
    private let path: String
    private let maxLineBytes: Int
    /// Bytes of the file read at most: its size when claimed, so a file that keeps growing ends.
    private let limit: off_t
    private var buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    private var fileOffset: off_t = 0
    private var lineNumber = 0
    private var atEOF = false

    /// Opens `path` for reading.
    convenience init(path: String, maxLineBytes: Int, chunkSize: Int = 256 << 10) throws(FileSystemError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .current("open", path) }
        self.init(descriptor: fd, path: path, maxLineBytes: maxLineBytes, chunkSize: chunkSize, ownsDescriptor: true)
    }

    /// Reads through an open descriptor from the start of the file, up to `limit` bytes; it stays open unless `ownsDescriptor`.
    init(descriptor: Int32, path: String, maxLineBytes: Int, limit: Int64 = .max, chunkSize: Int = 256 << 10, ownsDescriptor: Bool = false) {
        self.fd = descriptor
        self.ownsDescriptor = ownsDescriptor
        self.path = path
        self.maxLineBytes = maxLineBytes
        self.limit = off_t(clamping: max(limit, 0))
        // Room for one whole line at the limit, plus its line break, plus a chunk.
        let capacity = max(chunkSize, maxLineBytes + 2)
        self.buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit {
        if ownsDescriptor { close(fd) }
        buffer.deallocate()
    }

    /// Where a line starts: its byte offset, and how many lines come before it.
    struct Position: Sendable, Equatable {
        var offset: off_t
        var linesBefore: Int
    }

    /// Where the next line starts.
    var position: Position {
        Position(offset: fileOffset - off_t(end - start), linesBefore: lineNumber)
    }

    /// Goes back (or ahead) to a line start that `position` gave.
    func seek(to position: Position) {
        fileOffset = position.offset
        lineNumber = position.linesBefore
        start = 0
        end = 0
        atEOF = false
    }

    /// Calls `body` with the next line; returns nil at the end of the file.
    func next<Result>(_ body: (Line) throws -> Result) throws -> Result? {
        while true {
            if let newline = findNewline() {
                lineNumber += 1
                var lineEnd = newline
                if lineEnd > start && buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd])
                start = newline + 1
                if slice.count > maxLineBytes {
                    return try body(.oversized(number: lineNumber, length: slice.count))
                }
                return try body(.text(number: lineNumber, bytes: slice))
            }
            if atEOF {
                guard start < end else { return nil }
                // The last line has no line break.
                lineNumber += 1
                var lineEnd = end
                if buffer[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
                let slice = UnsafeRawBufferPointer(rebasing: buffer[start..<lineEnd])
                start = end
                if slice.count > maxLineBytes {
                    return try body(.oversized(number: lineNumber, length: slice.count))
                }
                return try body(.text(number: lineNumber, bytes: slice))
            }
            if end - start > maxLineBytes + 1 {
                // No line break within the limit: skip to the next one without keeping the bytes.
                lineNumber += 1
                let length = try skipOversizedLine()
                return try body(.oversized(number: lineNumber, length: length))
            }
            try fill()
        }
    }

    private func findNewline() -> Int? {
        guard start < end, let base = buffer.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, end - start) else { return nil }
        return base.distance(to: UnsafeMutableRawPointer(found))
    }

    /// Moves the unread bytes to the front and reads more; sets `atEOF` at the end.
    private func fill() throws(FileSystemError) {
        if start > 0 {
            if end > start, let base = buffer.baseAddress {
                memmove(base, base + start, end - start)
            }
            end -= start
            start = 0
        }
        guard end < buffer.count, let base = buffer.baseAddress else { return }
        guard fileOffset < limit else {
            atEOF = true
            return
        }
        let wanted = Int(clamping: min(off_t(buffer.count - end), limit - fileOffset))
        while true {
            let count = pread(fd, base + end, wanted, fileOffset)
            if count < 0 {
                if errno == EINTR { continue }
                throw .current("read", path)
            }
            if count == 0 { atEOF = true }
            end += count
            fileOffset += off_t(count)
            return
        }
    }

    /// Discards bytes up to and including the next line break (or the end of the file); returns the line's length.
    private func skipOversizedLine() throws(FileSystemError) -> Int {
        var length = 0
        while true {
            if let newline = findNewline() {
                length += newline - start
                start = newline + 1
                return length
            }
            length += end - start
            start = end
            if atEOF { return length }
            try fill()
        }
    }
}
