#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// A fifo endpoint for the length of a run: gives its deliveries their turns one at a time, in
/// the order they were read, and says whether each may go or is held behind an earlier one.
///
/// A delivery may go when its file is first in the endpoint's `FifoQueue` and nothing earlier in
/// the file was left for later. Only the run that claimed a file delivers from it, so at most one
/// run at a time delivers to the endpoint. Everything else is held: pending, unattempted, for a later run.
final class FifoLane: Sendable {
    let queue: FifoQueue
    private let logger: Logger
    /// Tells the run about spool trouble (exit 74); the deliveries concerned are held.
    private let trouble: @Sendable (String, FileSystemError) -> Void

    private struct FileState {
        /// Turns handed out and not yet finished.
        var outstanding = 0
        var readingDone = false
        /// False once a delivery in it was left for later (or reading stopped short): the rest is held.
        var clean = true
        /// Whether this run found the file first in line.
        var first = false
        /// When the file it waits behind is next due (unix seconds), if that one waits in `deferred/`.
        var heldUntil: Int64?
        var removed = false
    }

    private struct State {
        var nextTurn = 0
        var serving = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var files: [String: FileState] = [:]
    }

    private let state = Mutex(State())

    init(queue: FifoQueue, logger: Logger, trouble: @escaping @Sendable (String, FileSystemError) -> Void) {
        self.queue = queue
        self.logger = logger
        self.trouble = trouble
    }

    /// The next turn, for a delivery of `file` read now (in order: the reader calls it).
    func turn(in file: String) -> Int {
        state.withLock { state in
            state.files[file, default: FileState()].outstanding += 1
            defer { state.nextTurn += 1 }
            return state.nextTurn
        }
    }

    /// Waits until every earlier turn has finished.
    func wait(for turn: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state in
                if state.serving == turn { return true }
                state.waiting[turn] = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Whether the delivery whose turn it is may go now, or is held.
    enum Admission: Sendable, Equatable {
        case go
        /// `until`: when the file it waits behind is next due, if that one waits in `deferred/`.
        case held(until: Int64?)
    }

    /// Whether the delivery whose turn it is, in `file`, may go now.
    func admit(in file: String) -> Admission {
        let known = state.withLock { state -> Admission? in
            let current = state.files[file, default: FileState()]
            if !current.clean { return .held(until: current.heldUntil) }
            if current.first { return .go }
            return nil
        }
        if let known { return known }
        do {
            switch try queue.turn(of: file) {
            case .first:
                state.withLock { $0.files[file, default: FileState()].first = true }
                return .go
            case .behind(let head):
                let until = dueTime(of: head)
                state.withLock { $0.files[file, default: FileState()].heldUntil = until }
                hold(file, "an earlier file holds deliveries to this fifo endpoint; its deliveries in this file wait behind it", head: head)
                return .held(until: until)
            }
        } catch {
            trouble("cannot read the order of fifo endpoint \(queue.endpoint) (\(queue.path)): \(error); its deliveries wait", error)
            hold(file)
            return .held(until: nil)
        }
    }

    /// When `name` is next due, if it waits in `deferred/` (its journal's modification time).
    private func dueTime(of name: String) -> Int64? {
        let spool = queue.spool
        guard let info = FileSystem.regularFileInfo("\(spool.deferred)/\(Spool.journalName(for: name))") else { return nil }
        return Int64(info.modified.tv_sec)
    }

    /// Ends `turn` (a delivery of `file` that came to `outcome`) and gives the next its turn.
    func finish(_ turn: Int, in file: String, _ outcome: DeliveryOutcome) {
        let settled: Bool
        switch outcome {
        case .delivered, .failed: settled = true
        case .deferred, .interrupted, .held: settled = false
        }
        let done = state.withLock { state in
            state.files[file, default: FileState()].outstanding -= 1
            if !settled { state.files[file, default: FileState()].clean = false }
            return Self.claimRemoval(of: file, &state)
        }
        // Before the next turn: it must see this file gone from the line.
        if done { remove(file) }
        let next = state.withLock { state in
            state.serving = turn + 1
            return state.waiting.removeValue(forKey: turn + 1)
        }
        next?.resume()
    }

    /// `file` has been read (`complete` false: it stopped short, and what is unread waits).
    func readingFinished(_ file: String, complete: Bool) {
        let done = state.withLock { state in
            state.files[file, default: FileState()].readingDone = true
            if !complete { state.files[file, default: FileState()].clean = false }
            return Self.claimRemoval(of: file, &state)
        }
        if done { remove(file) }
    }

    /// Adds files about to be claimed to the end of the line; returns those it added (the others were listed already).
    func add(_ names: [String]) -> Set<String> {
        guard !names.isEmpty else { return [] }
        do {
            return try queue.add(names)
        } catch {
            trouble("cannot record the order of fifo endpoint \(queue.endpoint) (\(queue.path)): \(error)", error)
            return []
        }
    }

    /// Whether this run has given turns in a file of this name (it must not claim another one so named).
    func knows(_ name: String) -> Bool {
        state.withLock { $0.files[name] != nil }
    }

    /// A file that will not be worked on (refused) leaves the line.
    func drop(_ name: String) {
        remove(name)
    }

    /// A file moved to another name keeps its place.
    func moved(_ name: String, to newName: String) {
        do {
            try queue.rename(name, to: newName)
        } catch {
            trouble("cannot record the order of fifo endpoint \(queue.endpoint) (\(queue.path)): \(error)", error)
        }
    }

    private func hold(_ file: String, _ why: Logger.Message? = nil, head: String? = nil) {
        state.withLock { $0.files[file, default: FileState()].clean = false }
        guard let why else { return }
        var metadata: Logger.Metadata = ["hookspool.endpoint": "\(queue.endpoint)", "hookspool.file": "\(file)"]
        if let head { metadata["waits_for"] = "\(head)" }
        logger.notice(why, metadata: metadata)
    }

    private func remove(_ file: String) {
        do {
            try queue.remove(file)
        } catch {
            trouble("cannot record the order of fifo endpoint \(queue.endpoint) (\(queue.path)): \(error)", error)
        }
    }

    /// Whether `file` is to leave the line now: read to its end, no turn outstanding, nothing held.
    private static func claimRemoval(of file: String, _ state: inout State) -> Bool {
        guard var current = state.files[file], current.readingDone, current.outstanding == 0, current.clean, !current.removed else { return false }
        current.removed = true
        state.files[file] = current
        return true
    }
}
