#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Hands NDJSON over to the spool as a producer should: every line checked as a run would check
/// it, then a hidden temporary file in `incoming/`, fsync, rename to a new name, fsync the folder.
public enum Enqueue {
    /// A line a run would refuse.
    public struct BadLine: Sendable, Equatable, CustomStringConvertible {
        /// Where the input came from (`-` for standard input).
        public var source: String
        public var line: Int
        public var reason: String

        public var description: String { "\(source == "-" ? "<stdin>" : source):\(line): \(reason)" }
    }

    /// Why nothing was enqueued.
    public enum Failure: Error, Sendable {
        /// Lines a run would refuse (at most the first 100).
        case badLines([BadLine])
        /// The input is larger than `limits.max_file_bytes`, or empty.
        case unusable(String)
        /// `incoming/` is missing or not a folder (exit 74, as for an I/O error).
        case noSpool(String)
        case io(FileSystemError)
    }

    /// Input checked and written under a hidden name in `incoming/`, fsynced, not yet handed over:
    /// `commit` gives it its name, `discard` (or dropping it) removes it.
    public final class Staged {
        /// The spool name it gets.
        public let name: String
        /// How many events it holds.
        public let events: Int
        private let temporary: String
        private let incoming: String
        private var pending = true

        fileprivate init(name: String, events: Int, temporary: String, incoming: String) {
            self.name = name
            self.events = events
            self.temporary = temporary
            self.incoming = incoming
        }

        /// Renames it into `incoming/` (never over an existing file) and fsyncs the folder.
        ///
        /// - Returns: nil, or why the folder's fsync failed after the rename: the file is handed over
        ///   then, but may not survive a power loss. A folder the producer may not read (mode 3733, as
        ///   deployed) cannot be opened to fsync; that is not a failure.
        /// - Throws: `FileSystemError` when the rename fails: nothing was handed over.
        @discardableResult
        public func commit() throws(FileSystemError) -> FileSystemError? {
            guard try FileSystem.moveNoReplace(temporary, to: "\(incoming)/\(name)") else {
                throw FileSystemError(operation: "rename", path: "\(incoming)/\(name)", code: EEXIST)
            }
            pending = false
            do {
                try FileSystem.syncDirectory(incoming)
            } catch {
                return error.code == EACCES || error.code == EPERM ? nil : error
            }
            return nil
        }

        /// Removes it: nothing of it reaches a run.
        public func discard() {
            if pending { unlink(temporary) }
            pending = false
        }

        deinit { discard() }
    }

    /// Copies `input` (an open descriptor, read to its end) to a hidden file in `incoming/`, to be
    /// named from `stem`, checking every line as a run would; throws without leaving anything behind.
    public static func stage(from input: Int32, source: String, stem: String, spool: Spool, limits: Limits, now: Date = Date()) throws(Failure) -> Staged {
        let incoming = spool.incoming
        var folder = stat()
        guard stat(incoming, &folder) == 0, (folder.st_mode & S_IFMT) == S_IFDIR else {
            throw .noSpool("\(incoming) is not a folder: create the spool first (hookspool run does, as the service's user)")
        }
        let temporary = "\(incoming)/.enqueue.\(FileSystem.randomHex()).tmp"
        let fd = open(temporary, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw .io(.current("create", temporary)) }
        defer { close(fd) }
        var staged = false
        defer { if !staged { unlink(temporary) } }
        // The group (hookspool's, in a setgid folder) must be able to read it, whatever the umask.
        guard fchmod(fd, 0o640) == 0 else { throw .io(.current("set mode of", temporary)) }

        // The bytes first, so that the lines are checked from a file as a run reads them.
        var size: Int64 = 0
        var last: UInt8 = 0x0A
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { FileSystem.readDescriptor(input, $0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .io(.current("read", source))
            }
            if count == 0 { break }
            size += Int64(count)
            guard size <= Int64(limits.maxFileBytes) else {
                throw .unusable("\(source) is larger than limits.max_file_bytes (\(limits.maxFileBytes) bytes)")
            }
            guard FileSystem.writeAll(fd, chunk[0..<count]) else { throw .io(.current("write", temporary)) }
            last = chunk[count - 1]
        }
        guard size > 0 else { throw .unusable("\(source) is empty: nothing to enqueue") }
        // A last line without its newline would be left unread by a run: it gets one.
        if last != 0x0A {
            guard FileSystem.writeAll(fd, [0x0A]) else { throw .io(.current("write", temporary)) }
            size += 1
        }

        let name = spoolName(stem: stem, now: now)
        var bad: [BadLine] = []
        var events = 0
        let decoder = EventDecoder(fileName: name, defaultTimestamp: RFC3339.format(secondsSince1970: Int(now.timeIntervalSince1970)))
        let reader = LineReader(descriptor: fd, path: temporary, maxLineBytes: limits.maxEventBytes, limit: size)
        do {
            while let verdict = try reader.next({ line -> (Int, String?)? in
                switch line {
                case .text(let number, let bytes):
                    switch decoder.decode(number: number, bytes: bytes) {
                    case .event: return (number, nil)
                    case .blank: return nil
                    case .invalid(let reason): return (number, reason)
                    }
                case .oversized(let number, let length):
                    return (number, "line is \(length) bytes, more than limits.max_event_bytes (\(limits.maxEventBytes))")
                }
            }) {
                guard let (number, reason) = verdict else { continue }
                if let reason {
                    if bad.count < 100 { bad.append(BadLine(source: source, line: number, reason: reason)) }
                } else {
                    events += 1
                }
            }
        } catch let error as FileSystemError {
            throw .io(error)
        } catch {
            throw .io(FileSystemError(operation: "read", path: temporary, code: EIO))
        }
        guard bad.isEmpty else { throw .badLines(bad) }
        guard events > 0 else { throw .unusable("\(source) holds no event (only blank lines)") }

        guard fsync(fd) == 0 else { throw .io(.current("sync", temporary)) }
        staged = true
        return Staged(name: name, events: events, temporary: temporary, incoming: incoming)
    }

    /// `STEM-YYYYMMDDTHHMMSSZ-RANDOM.ndjson`: never an existing name, and sorted by time in listings.
    static func spoolName(stem: String, now: Date) -> String {
        let time = RFC3339.format(secondsSince1970: Int(now.timeIntervalSince1970)).filter { $0 != "-" && $0 != ":" }
        let safe = String(stem.unicodeScalars.map { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_" || scalar == ".") ? Character(scalar) : "_"
        })
        let trimmed = String(safe.drop { $0 == "." }.prefix(120))
        return "\(trimmed.isEmpty ? "events" : trimmed)-\(time)-\(FileSystem.randomHex().prefix(8)).ndjson"
    }
}
