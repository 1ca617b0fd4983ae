#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// One claimed spool file while its events are read and delivered: what is still due, the
/// journal, the failures so far, the counts, and when the file is finished.
final class FileTask: Sendable {
    /// The file's name in the spool now.
    let name: String
    /// The name derived ids are made from: the name it had when first claimed.
    let originalName: String
    /// The claimed (locked) file; nil in a dry run, which reads `incoming/` in place.
    let claimed: ClaimedFile?
    /// The file's journal; nil in a dry run.
    let journal: JournalWriter?
    /// What earlier runs finished, from the journal.
    let resume: Journal.State
    /// `.NAME.failures` in `processing/`: every failure so far, one JSON line each.
    private let failuresPath: String?

    private struct State {
        var outstanding = 0
        var readingDone = false
        var readComplete = false
        var finished = false
        var abandoned = false
        var events = 0
        var invalidLines = 0
        var delivered = 0
        var failed = 0
        var deferred = 0
        /// Still pending without a deferral: the run stopped.
        var interrupted = 0
        /// Held for a fifo endpoint's order; `heldUntil` is the earliest time the files they wait
        /// behind are due (nil: now, since one of them is not waiting in `deferred/`).
        var held = 0
        var heldUntil: Int64?
        /// The latest time (unix seconds) an endpoint asked a deferred delivery of this file to wait for.
        var notBefore: Int64?
        var failuresFD: Int32 = -1
        var failuresError: FileSystemError?
    }

    private let state = Mutex(State())

    init(name: String, originalName: String, claimed: ClaimedFile?, journal: JournalWriter?, resume: Journal.State, failuresPath: String?) {
        self.name = name
        self.originalName = originalName
        self.claimed = claimed
        self.journal = journal
        self.resume = resume
        self.failuresPath = failuresPath
    }

    deinit {
        state.withLock { state in
            if state.failuresFD >= 0 { close(state.failuresFD) }
        }
    }

    /// Starts the failures file afresh with the failures earlier runs recorded in the journal.
    func startFailures() throws(FileSystemError) {
        guard let failuresPath else { return }
        try FileSystem.remove(failuresPath)
        state.withLock { state in
            for failed in resume.failures {
                let failure = failed.failure
                let row = RunReport.FailureRow(
                    file: failure.file ?? name, line: failed.key.line, eventID: failure.eventID, eventType: failure.eventType, endpoint: failed.key.endpoint,
                    attempts: failure.attempts, lastStatus: failure.lastStatus, lastError: failure.lastError, responseExcerpt: failure.responseExcerpt,
                    firstAttempt: failure.firstAttempt.map { RFC3339.format(secondsSince1970: Int(clamping: $0)) }
                )
                append(row, to: &state)
            }
        }
        if let error = state.withLock({ $0.failuresError }) { throw error }
    }

    /// Whether this delivery still has to be made (earlier runs did not finish it, and a replay asks for it).
    func isDue(_ key: DeliveryKey) -> Bool {
        if resume.finished.contains(key) { return false }
        if let only = resume.only { return only.contains(key) }
        return true
    }

    func eventRead() {
        state.withLock { $0.events += 1 }
    }

    /// Records an invalid line; returns whether it is news (earlier runs had not read this file to the end).
    func invalidLine(_ row: RunReport.FailureRow) -> Bool {
        state.withLock { state in
            state.invalidLines += 1
            append(row, to: &state)
        }
        return !resume.readComplete
    }

    func deliveryScheduled() {
        state.withLock { $0.outstanding += 1 }
    }

    /// How a delivery's end left the file.
    struct Finished {
        /// Whether that was the file's last piece of work.
        var last: Bool
        /// The report row of a delivery that failed for good.
        var row: RunReport.FailureRow?
    }

    /// Journals the end of the delivery of `event` under `key`, whose first attempt started at
    /// `firstAttempt` (unix seconds), then counts it.
    func deliveryFinished(_ key: DeliveryKey, of event: Event, _ outcome: DeliveryOutcome, firstAttempt: Int64? = nil) -> Finished {
        var row: RunReport.FailureRow?
        switch outcome {
        case .delivered:
            journal?.delivered(key)
        case .failed(let failure):
            journal?.failed(key, Journal.Failure(event, file: name, endpoint: key.endpoint, failure, firstAttempt: firstAttempt))
            row = RunReport.FailureRow(
                file: name, line: key.line, eventID: event.id, eventType: event.type, endpoint: key.endpoint, failure: failure, firstAttempt: firstAttempt
            )
        case .deferred(let failure, let first, _):
            journal?.deferred(key, firstAttempt: first, Journal.Failure(event, file: name, endpoint: key.endpoint, failure, firstAttempt: first))
        case .interrupted, .held:
            break
        }
        let last = state.withLock { state in
            state.outstanding -= 1
            switch outcome {
            case .delivered:
                state.delivered += 1
            case .failed:
                state.failed += 1
                if let row { append(row, to: &state) }
            case .deferred(_, _, let notBefore):
                state.deferred += 1
                if let notBefore { state.notBefore = max(state.notBefore ?? notBefore, notBefore) }
            case .interrupted:
                state.interrupted += 1
            case .held(let until):
                state.heldUntil = state.held == 0 ? until : until.flatMap { later in state.heldUntil.map { min($0, later) } }
                state.held += 1
            }
            return Self.claimCompletion(&state)
        }
        return Finished(last: last, row: row)
    }

    /// Marks the end of reading (`complete` false when a stop cut it short); true when nothing is left in flight.
    func readingFinished(complete: Bool) -> Bool {
        if complete && !resume.readComplete { journal?.readComplete() }
        return state.withLock { state in
            state.readingDone = true
            state.readComplete = complete
            return Self.claimCompletion(&state)
        }
    }

    /// Reading broke off on an error: the file stays in `processing/` for a later run to resume.
    func abandon() {
        state.withLock { $0.abandoned = true }
    }

    var isAbandoned: Bool { state.withLock { $0.abandoned } }

    /// Where the file goes: deferred while any delivery is left for later (or reading was cut short),
    /// else failed if any delivery failed or any line was invalid, else done.
    var outcome: FileOutcome {
        state.withLock { state in
            if state.deferred > 0 || state.interrupted > 0 || state.held > 0 || !state.readComplete { return .deferred }
            return state.failed == 0 && state.invalidLines == 0 && resume.failures.isEmpty ? .done : .failed
        }
    }

    /// The latest time (unix seconds) an endpoint asked one of the file's deferred deliveries to wait for, if any did.
    var notBefore: Int64? { state.withLock { $0.notBefore } }

    /// Whether the next attempt comes without a deferral counted: nothing was deferred for a
    /// failure, only stopped or held (then it is due at once, or when what holds it is, `heldUntil`).
    var wasInterruptedOnly: Bool {
        state.withLock { $0.deferred == 0 && ($0.interrupted > 0 || $0.held > 0 || !$0.readComplete) }
    }

    /// When a file whose pending deliveries are all held for order is next due: when the files
    /// they wait behind are; nil when it is due at once.
    var heldUntil: Int64? {
        state.withLock { state in
            state.deferred == 0 && state.interrupted == 0 && state.readComplete && state.held > 0 ? state.heldUntil : nil
        }
    }

    /// Flushes and closes the failures file; throws if any write to it failed.
    func closeFailures() throws(FileSystemError) {
        let result: FileSystemError? = state.withLock { state in
            if state.failuresFD >= 0 {
                if fsync(state.failuresFD) != 0 && state.failuresError == nil, let path = failuresPath {
                    state.failuresError = .current("sync", path)
                }
                close(state.failuresFD)
                state.failuresFD = -1
            }
            return state.failuresError
        }
        if let result { throw result }
    }

    /// The report row for this file.
    func summary(outcome: FileOutcome, movedTo: String?) -> RunReport.FileSummary {
        state.withLock { state in
            RunReport.FileSummary(
                name: name, outcome: outcome, events: state.events, invalidLines: state.invalidLines,
                delivered: state.delivered, failed: state.failed, deferred: state.deferred + state.interrupted + state.held, movedTo: movedTo
            )
        }
    }

    private static func claimCompletion(_ state: inout State) -> Bool {
        guard state.readingDone, state.outstanding == 0, !state.finished, !state.abandoned else { return false }
        state.finished = true
        return true
    }

    private static let encoder = JSONEncoder()

    /// Appends one JSON line to the failures file, creating it on first use.
    private func append(_ row: RunReport.FailureRow, to state: inout State) {
        guard let failuresPath, state.failuresError == nil else { return }
        if state.failuresFD < 0 {
            state.failuresFD = FileSystem.openCreating(failuresPath, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
            if state.failuresFD < 0 {
                state.failuresError = .current("create", failuresPath)
                return
            }
        }
        guard var line = try? Self.encoder.encode(row) else { return }
        line.append(0x0A)
        if !FileSystem.writeAll(state.failuresFD, line) { state.failuresError = .current("write", failuresPath) }
    }
}

extension Journal.Failure {
    /// How the journal keeps the delivery of `event` (in file `file`) to `endpoint` that did not succeed.
    init(_ event: Event, file: String, endpoint: String, _ failure: DeliveryFailure, firstAttempt: Int64? = nil) {
        self.init(
            file: file, line: event.line, eventID: event.id, eventType: event.type, endpoint: endpoint, attempts: failure.attempts,
            lastStatus: failure.lastStatus, lastError: failure.reason.word, responseExcerpt: failure.responseExcerpt, firstAttempt: firstAttempt
        )
    }
}
