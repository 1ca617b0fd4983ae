#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import HookSpool
import Synchronization

/// The set of event ids already stored, and the NDJSON file they are appended to, durably and one line at a time.
///
/// `append` returns only once the line is written and `fsync`ed, so an event acknowledged after it
/// is never lost. Appends are written by one Dispatch queue (never on the cooperative pool), in
/// batches: whatever queued up during one `fsync` goes out in the next single write and `fsync`,
/// so concurrent requests never interleave lines and share the cost of the flush. An id that is
/// already stored, or being stored, is a duplicate; a duplicate of an id still being written waits
/// for that write, so it is never acknowledged before the original is durable.
///
/// ```swift
/// let sink = try EventSink.open(path: "received.ndjson")   // ids rebuilt from the file
/// if try await sink.append(id: "evt_1", line: Array(#"{"id":"evt_1"}"#.utf8)) == .duplicate { … }
/// ```
public final class EventSink: Sendable {
    /// What `append` did.
    public enum Outcome: Sendable, Hashable {
        /// The line is now durable in the file.
        case stored
        /// The id was stored before; nothing was written.
        case duplicate
    }

    /// What `open` found in an existing file.
    public struct Recovery: Sendable, Hashable {
        /// Ids read back from complete lines.
        public var ids = 0
        /// Bytes of an unfinished last line (a write cut short, never acknowledged) that were cut off.
        public var tornBytes = 0
        /// Complete lines that are not a JSON object with a string `id`; they are kept but give no id.
        public var unreadableLines = 0
    }

    private typealias Waiter = CheckedContinuation<Result<Outcome, FileSystemError>, Never>

    private struct Pending {
        var id: String
        var line: [UInt8]
        var waiter: Waiter
    }

    private struct State {
        var stored: Set<String>
        /// Ids queued or being written, with the duplicates waiting for them.
        var inFlight: [String: [Waiter]] = [:]
        var queue: [Pending] = []
        var draining = false
        /// The file's size after the last successful flush; a failed write is cut back to it.
        var committedSize: off_t
        /// Set after a failed fsync: the kernel may have dropped the data, so nothing more is acknowledged.
        var broken: FileSystemError?
    }

    /// The file, or `nil` when ids are only kept in memory.
    public let path: String?
    /// What was found in the file when it was opened.
    public let recovery: Recovery
    private let descriptor: Int32
    private let state: Mutex<State>
    private let writer = DispatchQueue(label: "hookspool.receive.sink")

    private init(path: String?, descriptor: Int32, stored: Set<String>, size: off_t, recovery: Recovery) {
        self.path = path
        self.descriptor = descriptor
        self.recovery = recovery
        self.state = Mutex(State(stored: stored, committedSize: size))
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    /// A sink that remembers ids in memory and writes nothing.
    public static func inMemory() -> EventSink {
        EventSink(path: nil, descriptor: -1, stored: [], size: 0, recovery: Recovery())
    }

    /// Opens (or creates) `path`, takes an exclusive lock on it (failing with `EWOULDBLOCK` when another sink holds it), reads back the ids of its complete lines,
    /// and cuts off an unfinished last line so the next append starts on a line of its own.
    public static func open(path: String) throws(FileSystemError) -> EventSink {
        let existed = access(path, F_OK) == 0
        let fd = openFile(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileSystemError(operation: "open", path: path, code: errno) }
        do throws(FileSystemError) {
            // EWOULDBLOCK: another receiver has it, and two writers would break once-only storage.
            guard flock(fd, LOCK_EX | LOCK_NB) == 0 else { throw FileSystemError(operation: "lock", path: path, code: errno) }
            let bytes = try readAll(fd, path: path)
            var recovery = Recovery()
            var stored = Set<String>()
            var end = 0
            if let lastNewline = bytes.lastIndex(of: UInt8(ascii: "\n")) {
                end = lastNewline + 1
            }
            var lineStart = 0
            while lineStart < end {
                var lineEnd = lineStart
                while bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
                let line = bytes[lineStart..<lineEnd]
                if !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") || $0 == UInt8(ascii: "\t") }) {
                    if let id = storedID(line) {
                        stored.insert(id)
                    } else {
                        recovery.unreadableLines += 1
                    }
                }
                lineStart = lineEnd + 1
            }
            recovery.ids = stored.count
            if end < bytes.count {
                recovery.tornBytes = bytes.count - end
                guard ftruncate(fd, off_t(end)) == 0 else { throw FileSystemError(operation: "truncate", path: path, code: errno) }
                guard fsync(fd) == 0 else { throw FileSystemError(operation: "fsync", path: path, code: errno) }
            }
            if !existed {
                try syncParent(of: path)
            }
            return EventSink(path: path, descriptor: fd, stored: stored, size: off_t(end), recovery: recovery)
        } catch {
            close(fd)
            throw error
        }
    }

    /// How many distinct ids are stored.
    public var storedCount: Int { state.withLock { $0.stored.count } }

    /// Whether `id` is already durably stored.
    public func contains(_ id: String) -> Bool {
        state.withLock { $0.stored.contains(id) }
    }

    /// Appends `line` (one line of JSON, no newline) for `id` and returns once it is durable;
    /// returns `.duplicate` without writing when `id` is stored or being stored.
    public func append(id: String, line: [UInt8]) async throws(FileSystemError) -> Outcome {
        let result = await withCheckedContinuation { (waiter: Waiter) in
            let action: (resume: Result<Outcome, FileSystemError>?, startDrain: Bool) = state.withLock { state in
                if state.stored.contains(id) { return (.success(.duplicate), false) }
                if let broken = state.broken { return (.failure(broken), false) }
                if state.inFlight[id] != nil {
                    state.inFlight[id, default: []].append(waiter)
                    return (nil, false)
                }
                if descriptor < 0 {
                    state.stored.insert(id)
                    return (.success(.stored), false)
                }
                state.inFlight[id] = []
                state.queue.append(Pending(id: id, line: line, waiter: waiter))
                let start = !state.draining
                state.draining = true
                return (nil, start)
            }
            if let resume = action.resume { waiter.resume(returning: resume) }
            if action.startDrain { writer.async { self.drain() } }
        }
        return try result.get()
    }

    // MARK: Writing

    /// Writes queued lines in batches until the queue is empty; runs on `writer` only.
    private func drain() {
        while true {
            let (batch, size) = state.withLock { state -> ([Pending], off_t) in
                let batch = state.queue
                state.queue = []
                if batch.isEmpty { state.draining = false }
                return (batch, state.committedSize)
            }
            if batch.isEmpty { return }

            var bytes: [UInt8] = []
            bytes.reserveCapacity(batch.reduce(0) { $0 + $1.line.count + 1 })
            for pending in batch {
                bytes += pending.line
                bytes.append(UInt8(ascii: "\n"))
            }
            var failure: FileSystemError? = nil
            var fsyncFailed = false
            if let error = writeAll(bytes) {
                failure = error
            } else if fsync(descriptor) != 0 {
                failure = FileSystemError(operation: "fsync", path: path ?? "", code: errno)
                fsyncFailed = true
            }
            if failure != nil {
                // Cut off what may have been written, so the file keeps whole lines only.
                _ = ftruncate(descriptor, size)
            }

            var resumes: [(Waiter, Result<Outcome, FileSystemError>)] = []
            state.withLock { state in
                if let failure, fsyncFailed { state.broken = failure }
                if failure == nil { state.committedSize = size + off_t(bytes.count) }
                for pending in batch {
                    let duplicates = state.inFlight.removeValue(forKey: pending.id) ?? []
                    if let failure {
                        resumes.append((pending.waiter, .failure(failure)))
                        resumes += duplicates.map { ($0, .failure(failure)) }
                    } else {
                        state.stored.insert(pending.id)
                        resumes.append((pending.waiter, .success(.stored)))
                        resumes += duplicates.map { ($0, .success(.duplicate)) }
                    }
                }
            }
            for (waiter, result) in resumes { waiter.resume(returning: result) }
        }
    }

    /// Writes every byte, retrying short writes and interrupts; the error, or `nil`.
    private func writeAll(_ bytes: [UInt8]) -> FileSystemError? {
        bytes.withUnsafeBytes { buffer -> FileSystemError? in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return FileSystemError(operation: "write", path: path ?? "", code: errno)
                }
                offset += written
            }
            return nil
        }
    }

    // MARK: Reading back

    /// The `id` of a stored line: the line is a JSON object with a string `id`.
    private static func storedID(_ line: ArraySlice<UInt8>) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else { return nil }
        return object["id"] as? String
    }

    private static func readAll(_ fd: Int32, path: String) throws(FileSystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", path: path, code: errno)
            }
            if count == 0 { return bytes }
            bytes += chunk[0..<count]
            offset += off_t(count)
        }
    }

    private static func syncParent(of path: String) throws(FileSystemError) {
        let parent: String
        if let slash = path.lastIndex(of: "/") {
            parent = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            parent = "."
        }
        let fd = openFile(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0)
        guard fd >= 0 else { throw FileSystemError(operation: "open folder", path: parent, code: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 && errno != EINVAL { throw FileSystemError(operation: "fsync folder", path: parent, code: errno) }
    }
}

/// `open(2)`, reachable from inside `EventSink`, whose own `open(path:)` hides the global name.
private func openFile(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}
