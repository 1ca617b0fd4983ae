#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Appends records to one file's journal; fsyncs at most every 50 ms so that durability costs little.
final class JournalWriter: Sendable {
    let path: String
    private struct State {
        var fd: Int32
        var unsynced = 0
        /// The clock's `uptime` at the last fsync.
        var lastSync: Duration
        var syncInFlight = false
        var error: FileSystemError?
    }

    private let state: Mutex<State>
    private let clock: any RunClock
    /// Longest time a written record waits for its fsync to start, and shortest time between two
    /// fsyncs of one journal. (Up to 0.4.0 every 64 records started one too: 10% of a run's CPU at
    /// 10,000 deliveries a second here, for no better bound, as a power loss repeats what the time allows.)
    static let groupDelay = Duration.milliseconds(50)

    /// Opens the journal for appending, first cutting off a torn tail at `validLength`.
    init(path: String, validLength: Int?, clock: any RunClock = SystemClock()) throws(FileSystemError) {
        let fd = FileSystem.openCreating(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .current("open", path) }
        if let validLength {
            var info = stat()
            if fstat(fd, &info) == 0 && Int(info.st_size) > validLength {
                if ftruncate(fd, off_t(validLength)) != 0 {
                    let error = FileSystemError.current("truncate", path)
                    FileSystem.closeDescriptor(fd)
                    throw error
                }
            }
        }
        self.path = path
        self.clock = clock
        self.state = Mutex(State(fd: fd, lastSync: clock.uptime))
    }

    deinit {
        state.withLock { state in
            if state.fd >= 0 { FileSystem.closeDescriptor(state.fd) }
        }
    }

    /// The first write error, if any; after one, nothing more is written.
    var error: FileSystemError? { state.withLock { $0.error } }

    func header(originalName: String, identity: String) {
        append(Self.encode(Journal.Record(r: "header", v: Journal.format, file: originalName, id: identity)))
    }

    func delivered(_ key: DeliveryKey) {
        append(Self.deliveredLine(key))
    }

    /// `Journal.Record(r: "ok", l:, e:)` as JSONEncoder writes it, without its cost on the hot path
    /// (a test decodes it back with the Codable types). Endpoint names are letters, digits, '-' and '_'.
    static func deliveredLine(_ key: DeliveryKey) -> String {
        #"{"r":"ok","l":\#(key.line),"e":"\#(key.endpoint)"}"#
    }

    func failed(_ key: DeliveryKey, _ failure: Journal.Failure) {
        append(Self.encode(Journal.Record(r: "failed", l: key.line, e: key.endpoint, row: failure)))
    }

    func deferred(_ key: DeliveryKey, firstAttempt: Int64, _ failure: Journal.Failure) {
        append(Self.encode(Journal.Record(r: "deferred", l: key.line, e: key.endpoint, first: firstAttempt, row: failure)))
    }

    func readComplete() {
        append(Self.encode(Journal.Record(r: "read")))
    }

    func fileDeferred(count: Int, next: Int64) {
        append(Self.encode(Journal.Record(r: "defer_file", n: count, next: next)))
    }

    func replay(_ pairs: [DeliveryKey]) {
        append(Self.encode(Journal.Record(r: "replay", pairs: pairs.map { Journal.PairRecord(l: $0.line, e: $0.endpoint) })))
    }

    /// Writes the record now; fsyncs when the group is full or has waited long enough.
    private func append(_ line: String) {
        let now = clock.uptime
        state.withLock { state in
            guard state.error == nil else { return }
            guard state.fd >= 0 else {
                state.error = FileSystemError(operation: "write", path: path, code: EBADF)
                return
            }
            var bytes = Array(line.utf8)
            bytes.append(0x0A)
            if !FileSystem.writeAll(state.fd, bytes) {
                state.error = .current("write", path)
                return
            }
            state.unsynced += 1
            if !state.syncInFlight && now - state.lastSync >= Self.groupDelay {
                startBackgroundSync(&state, now: now)
            } else if state.unsynced == 1 {
                // No record waits longer than the group delay for its fsync, even if no other follows.
                MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .milliseconds(Int64(Self.groupDelay.milliseconds))) { [weak self] in
                    self?.syncIfPending()
                }
            }
        }
    }

    /// Starts a background fsync if records are waiting for one.
    private func syncIfPending() {
        state.withLock { state in
            guard state.fd >= 0, state.unsynced > 0, !state.syncInFlight, state.error == nil else { return }
            startBackgroundSync(&state, now: clock.uptime)
        }
    }

    /// Fsyncs a duplicate of the descriptor on a thread-pool thread, so a slow disk never blocks
    /// the tasks that send requests (a blocked cooperative pool would turn into request timeouts).
    private func startBackgroundSync(_ state: inout State, now: Duration) {
        let copy = dup(state.fd)
        guard copy >= 0 else {
            Self.sync(&state, path: path, now: now)
            return
        }
        state.syncInFlight = true
        state.unsynced = 0
        state.lastSync = now
        let path = self.path
        NIOThreadPool.singleton.submit { [weak self] _ in
            let failed = fsync(copy) != 0
            let error = failed ? FileSystemError.current("sync", path) : nil
            FileSystem.closeDescriptor(copy)
            self?.state.withLock { state in
                state.syncInFlight = false
                if let error, state.error == nil { state.error = error }
            }
        }
    }

    /// Makes every record written so far durable.
    func sync() throws(FileSystemError) {
        let error: FileSystemError? = state.withLock { state in
            // An fsync still running in the background may not have finished: sync here too.
            if state.unsynced > 0 || state.syncInFlight { Self.sync(&state, path: path, now: clock.uptime) }
            return state.error
        }
        if let error { throw error }
    }

    /// Syncs and closes. Closing is not an error: a delivery task that finished just before the
    /// file's last one may still ask for `error` afterwards. A record appended after closing is one.
    func close() throws(FileSystemError) {
        try sync()
        state.withLock { state in
            if state.fd >= 0 {
                FileSystem.closeDescriptor(state.fd)
                state.fd = -1
            }
        }
    }

    private static func sync(_ state: inout State, path: String, now: Duration) {
        if fsync(state.fd) != 0 && state.error == nil {
            state.error = .current("sync", path)
        }
        state.unsynced = 0
        state.lastSync = now
    }

    private static let encoder = JSONEncoder()

    static func encode(_ record: Journal.Record) -> String {
        guard let data = try? encoder.encode(record) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
