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

/// A delivery: one event line of a file, to one endpoint.
struct DeliveryKey: Hashable, Sendable {
    var line: Int
    var endpoint: String
}

/// The append-only record of a spool file's finished deliveries, kept beside it as `.NAME.journal`.
///
/// One JSON line per acknowledged, permanently failed or deferred delivery, written before the
/// outcome counts. A resumed run sends only deliveries with no final record. A torn last line
/// (a crash mid-write) is ignored and cut off before anything is appended.
///
/// The format is `Journal.Record`'s, written and read by the same Codable types. Format 2 (this
/// one) keeps a failure's own fields; format 1 (0.4.0) kept the report's whole row under the same
/// key, and reads the same, its extra keys ignored.
enum Journal {
    /// The format this version writes, in the header record's `v`.
    static let format = 2

    /// What the journal says about a file when a run takes it up.
    struct State: Sendable {
        /// The file's name when it was first claimed; derived ids use it, whatever the file is called now.
        var originalName: String?
        /// The identity (device, inode, size, mtime) of the file the journal belongs to, when recorded.
        var identity: String?
        /// Deliveries that succeeded or failed for good: never sent again.
        var finished: Set<DeliveryKey> = []
        /// Deliveries that failed for good, for the sidecar and the report.
        var failures: [FailedDelivery] = []
        /// First attempt time (unix seconds) of deliveries deferred by earlier runs.
        var firstAttempt: [DeliveryKey: Int64] = [:]
        /// How often the file was deferred.
        var deferrals = 0
        /// When set, only these deliveries are due (a replay); every other one counts as finished.
        var only: Set<DeliveryKey>?
        /// Whether an earlier run read the file to its end (its invalid lines were reported then).
        var readComplete = false
        /// Bytes of complete records; anything after is a torn write.
        var validLength = 0
    }

    /// A delivery that failed for good, as a resumed run reports it again.
    struct FailedDelivery: Sendable, Equatable {
        var key: DeliveryKey
        var failure: Failure
    }

    /// One record, one JSON line.
    struct Record: Codable, Sendable, Equatable {
        /// `header`, `ok`, `failed`, `deferred`, `read`, `defer_file`, `replay`.
        var r: String
        /// The format (header records; none in format 1).
        var v: Int?
        /// The file's name when first claimed (header records).
        var file: String?
        /// The data file's identity (header records).
        var id: String?
        /// The delivery's line and endpoint.
        var l: Int?
        var e: String?
        /// When the delivery was first tried, unix seconds (deferred records).
        var first: Int64?
        /// How often the file was deferred, and when it is due next (defer_file records).
        var n: Int?
        var next: Int64?
        /// What a failed or deferred delivery came to.
        var row: Failure?
        /// The deliveries a replay asks for.
        var pairs: [PairRecord]?

        init(
            r: String, v: Int? = nil, file: String? = nil, id: String? = nil, l: Int? = nil, e: String? = nil, first: Int64? = nil,
            n: Int? = nil, next: Int64? = nil, row: Failure? = nil, pairs: [PairRecord]? = nil
        ) {
            self.r = r
            self.v = v
            self.file = file
            self.id = id
            self.l = l
            self.e = e
            self.first = first
            self.n = n
            self.next = next
            self.row = row
            self.pairs = pairs
        }
    }

    /// A failed or deferred delivery's event and what it came to.
    struct Failure: Codable, Sendable, Equatable {
        var eventID: String?
        var eventType: String?
        var attempts: Int
        var lastStatus: Int?
        var lastError: String?
        var responseExcerpt: String?


        enum CodingKeys: String, CodingKey {
            case eventID = "event_id"
            case eventType = "event_type"
            case attempts
            case lastStatus = "last_status"
            case lastError = "last_error"
            case responseExcerpt = "response_excerpt"
        }
    }

    struct PairRecord: Codable, Sendable, Hashable {
        var l: Int
        var e: String
    }

    /// Reads the journal at `path`; a missing journal is an empty state.
    static func read(_ path: String) throws(FileSystemError) -> State {
        var state = State()
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return state }
            throw .current("open", path)
        }
        defer { close(fd) }
        var data = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { FileSystem.readDescriptor(fd, $0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .current("read", path)
            }
            if count == 0 { break }
            data.append(contentsOf: chunk[0..<count])
        }
        let decoder = JSONDecoder()
        var start = 0
        while let newline = data[start...].firstIndex(of: 0x0A) {
            defer { start = newline + 1 }
            guard let record = try? decoder.decode(Record.self, from: Data(data[start..<newline])) else {
                // A damaged line in the middle: stop trusting what follows.
                break
            }
            apply(record, to: &state)
            state.validLength = newline + 1
        }
        return state
    }

    static func apply(_ record: Record, to state: inout State) {
        switch record.r {
        case "header":
            state.originalName = record.file
            state.identity = record.id
        case "ok", "failed":
            guard let line = record.l, let endpoint = record.e else { return }
            let key = DeliveryKey(line: line, endpoint: endpoint)
            if state.finished.insert(key).inserted, record.r == "failed", let row = record.row {
                state.failures.append(FailedDelivery(key: key, failure: row))
            }
            state.firstAttempt[key] = nil
        case "deferred":
            guard let line = record.l, let endpoint = record.e, let first = record.first else { return }
            let key = DeliveryKey(line: line, endpoint: endpoint)
            if !state.finished.contains(key) && state.firstAttempt[key] == nil {
                state.firstAttempt[key] = first
            }
        case "read":
            state.readComplete = true
        case "defer_file":
            state.deferrals = max(state.deferrals, record.n ?? state.deferrals + 1)
        case "replay":
            state.only = Set((record.pairs ?? []).map { DeliveryKey(line: $0.l, endpoint: $0.e) })
            // A replay starts the file's story again: earlier outcomes are not carried over.
            state.finished = []
            state.failures = []
            state.firstAttempt = [:]
        default:
            break
        }
    }
}

/// Appends records to one file's journal; fsyncs in small groups so that durability costs little.
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
    /// Records written between two fsyncs at most.
    static let groupSize = 64
    /// Longest time a written record waits for its fsync, when more records keep coming.
    static let groupDelay = Duration.milliseconds(50)

    /// Opens the journal for appending, first cutting off a torn tail at `validLength`.
    init(path: String, validLength: Int?, clock: any RunClock = SystemClock()) throws(FileSystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0o600)
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
            if !state.syncInFlight && (state.unsynced >= Self.groupSize || now - state.lastSync >= Self.groupDelay) {
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
