#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// One claimed spool file while its events are read and delivered: counts, the failures sidecar, and when it is finished.
final class FileTask: Sendable {
    /// What one delivery of this file came to.
    enum DeliveryResult: Sendable {
        case delivered
        case failed(RunReport.FailureRow)
    }

    /// The file's name in the spool.
    let name: String
    /// `processing/NAME.failures.ndjson`, written as failures happen.
    let sidecarPath: String?

    private struct State {
        var outstanding = 0
        var readingDone = false
        var finished = false
        var abandoned = false
        var events = 0
        var invalidLines = 0
        var delivered = 0
        var failed = 0
        var sidecar: Int32 = -1
        var sidecarError: FileSystemError?
    }

    private let state = Mutex(State())

    /// - Parameter sidecarPath: nil in a dry run, which writes nothing.
    init(name: String, sidecarPath: String?) {
        self.name = name
        self.sidecarPath = sidecarPath
    }

    deinit {
        state.withLock { state in
            if state.sidecar >= 0 { close(state.sidecar) }
        }
    }

    func eventRead() {
        state.withLock { $0.events += 1 }
    }

    func invalidLine(_ row: RunReport.FailureRow) {
        state.withLock { state in
            state.invalidLines += 1
            append(row, to: &state)
        }
    }

    func deliveryScheduled() {
        state.withLock { $0.outstanding += 1 }
    }

    /// Records a finished delivery; true when that was the file's last piece of work.
    func deliveryFinished(_ result: DeliveryResult) -> Bool {
        state.withLock { state in
            state.outstanding -= 1
            switch result {
            case .delivered:
                state.delivered += 1
            case .failed(let row):
                state.failed += 1
                append(row, to: &state)
            }
            return Self.claimCompletion(&state)
        }
    }

    /// Marks the end of reading; true when nothing is left in flight.
    func readingFinished() -> Bool {
        state.withLock { state in
            state.readingDone = true
            return Self.claimCompletion(&state)
        }
    }

    /// Reading broke off: the file must stay where it is, whatever its deliveries do.
    func abandon() {
        state.withLock { $0.abandoned = true }
    }

    /// Flushes and closes the sidecar; throws if any write to it failed.
    func closeSidecar() throws(FileSystemError) {
        let result: FileSystemError? = state.withLock { state in
            if state.sidecar >= 0 {
                if fsync(state.sidecar) != 0 && state.sidecarError == nil, let path = sidecarPath {
                    state.sidecarError = .current("sync", path)
                }
                close(state.sidecar)
                state.sidecar = -1
            }
            return state.sidecarError
        }
        if let result { throw result }
    }

    /// Whether this file may be moved on: read to the end and not abandoned.
    var isComplete: Bool { state.withLock { $0.readingDone && !$0.abandoned } }

    /// The report row for this file.
    func summary(outcome: FileOutcome, movedTo: String?) -> RunReport.FileSummary {
        state.withLock { state in
            RunReport.FileSummary(
                name: name, outcome: outcome, events: state.events, invalidLines: state.invalidLines,
                delivered: state.delivered, failed: state.failed, deferred: 0, movedTo: movedTo
            )
        }
    }

    /// Done when every delivery succeeded and no line was invalid; failed otherwise.
    var outcome: FileOutcome {
        state.withLock { $0.failed == 0 && $0.invalidLines == 0 ? .done : .failed }
    }

    private static func claimCompletion(_ state: inout State) -> Bool {
        guard state.readingDone, state.outstanding == 0, !state.finished else { return false }
        state.finished = true
        return true
    }

    private static let encoder = JSONEncoder()

    /// Appends one JSON line to the sidecar, creating it on first use.
    private func append(_ row: RunReport.FailureRow, to state: inout State) {
        guard let sidecarPath, state.sidecarError == nil else { return }
        if state.sidecar < 0 {
            state.sidecar = open(sidecarPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if state.sidecar < 0 {
                state.sidecarError = .current("create", sidecarPath)
                return
            }
        }
        guard var line = try? Self.encoder.encode(row) else { return }
        line.append(0x0A)
        let fd = state.sidecar
        let failed = line.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let written = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return true
                }
                offset += written
            }
            return false
        }
        if failed { state.sidecarError = .current("write", sidecarPath) }
    }
}
