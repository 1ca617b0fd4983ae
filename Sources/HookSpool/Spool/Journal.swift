#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

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
/// one) adds the header's `v`; its failures keep format 1's keys (0.4.0 wrote the report's row
/// there), so each version reads the other's journals.
enum Journal {
    /// The format this version writes, in the header record's `v`.
    static let format = 2

    /// What the journal says about a file when a run takes it up.
    struct State: Sendable {
        /// The file's name when it was first claimed; derived ids use it, whatever the file is called now.
        var originalName: String?
        /// The identity (inode, size, mtime; 0.4.0 led with the device) of the file the journal belongs to, when recorded.
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

    /// A failed or deferred delivery's event and what it came to. It keeps format 1's keys
    /// (`file`, `line`, `endpoint` too), so that 0.4.0 still reads the journal after a rollback.
    struct Failure: Codable, Sendable, Equatable {
        /// The file's name when the delivery failed.
        var file: String?
        var line: Int?
        var eventID: String?
        var eventType: String?
        var endpoint: String?
        var attempts: Int
        var lastStatus: Int?
        var lastError: String?
        var responseExcerpt: String?
        /// When the delivery's first attempt started (unix seconds); missing in journals before 0.5.
        var firstAttempt: Int64?

        /// The same words as the report's failure rows today, on purpose and by copy: these are the
        /// journal's format 1 keys and stay so when the report's schema changes.
        enum CodingKeys: String, CodingKey {
            case file, line
            case eventID = "event_id"
            case eventType = "event_type"
            case endpoint, attempts
            case lastStatus = "last_status"
            case lastError = "last_error"
            case responseExcerpt = "response_excerpt"
            case firstAttempt = "first_attempt"
        }
    }

    struct PairRecord: Codable, Sendable, Hashable {
        var l: Int
        var e: String
    }

    /// Reads the journal at `path`; a missing journal is an empty state.
    static func read(_ path: String) throws(FileSystemError) -> State {
        var state = State()
        guard let data = try FileSystem.readAll(path) else { return state }
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
            state.deferrals = max(state.deferrals, record.n ?? state.deferrals.addingReportingOverflow(1).partialValue)
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
