import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
@testable import HookSpool

/// A transport that answers each attempt from a script, and records when (on its clock) each came.
final class ScriptedTransport: Transport {
    /// One scripted answer.
    enum Answer: Sendable {
        case status(Int, retryAfter: Duration? = nil, excerpt: String? = nil)
        case failure(AttemptFailure)
        /// Waits until `open()` is called, then answers `status`.
        case held(status: Int)
    }

    /// One attempt as the transport saw it.
    struct Call: Sendable {
        var number: Int
        /// The clock's uptime when it came.
        var at: Duration
        /// The attempt's own headers (its signature).
        var headers: HTTPHeaders
        /// Whether it was started on an event loop's thread (where the HTTP transport reads answers).
        var onEventLoop: Bool
    }

    /// Tasks waiting for a count (of held attempts, of `closeSpare` calls) to reach theirs.
    private struct Watchers {
        var waiting: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// Takes out the waiters whose count `count` has reached.
        mutating func due(at count: Int) -> [CheckedContinuation<Void, Never>] {
            defer { waiting.removeAll { $0.count <= count } }
            return waiting.filter { $0.count <= count }.map(\.continuation)
        }
    }

    private struct State {
        var script: [Answer]
        var calls: [Call] = []
        var inFlight = 0
        var maxInFlight = 0
        var gate: [@Sendable () -> Void] = []
        var heldWatchers = Watchers()
        var opened = false
        var shutDown = false
        var spareCalls: [Int] = []
        var spareWatchers = Watchers()
    }

    private let state: Mutex<State>
    private let clock: any RunClock
    /// What every attempt after the script gets.
    private let then: Answer

    init(_ script: [Answer] = [], then: Answer = .status(200), clock: any RunClock) {
        state = Mutex(State(script: script))
        self.then = then
        self.clock = clock
    }

    /// Answers at once, before returning, unless the answer is held; then `open()` answers.
    func start(
        headers: [(name: String, value: String)], body: ByteBuffer, timeout: Duration, attempt number: Int,
        answered: @escaping @Sendable (Attempt) -> Void
    ) -> AttemptHandle {
        let answer = state.withLock { state -> Answer in
            state.calls.append(Call(number: number, at: clock.uptime, headers: HTTPHeaders(headers.map { ($0.name, $0.value) }), onEventLoop: MultiThreadedEventLoopGroup.currentEventLoop != nil))
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            return state.script.isEmpty ? then : state.script.removeFirst()
        }
        let finish: @Sendable (Attempt) -> Void = { [self] attempt in
            state.withLock { $0.inFlight -= 1 }
            answered(attempt)
        }
        switch answer {
        case .status(let status, let retryAfter, let excerpt):
            finish(Attempt(number: number, result: .response(status: status), retryAfter: retryAfter, responseExcerpt: excerpt, latency: .milliseconds(1)))
        case .failure(let failure):
            finish(Attempt(number: number, result: .failure(failure), latency: .milliseconds(1)))
        case .held(let status):
            let release: @Sendable () -> Void = { finish(Attempt(number: number, result: .response(status: status), latency: .milliseconds(1))) }
            let (now, woken) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                if state.opened { return (true, []) }
                state.gate.append(release)
                return (false, state.heldWatchers.due(at: state.gate.count))
            }
            if now { release() }
            for watcher in woken { watcher.resume() }
        }
        return .done
    }

    func shutdown() async {
        state.withLock { $0.shutDown = true }
    }

    func closeSpare(pending: Int) {
        let woken = state.withLock { state in
            state.spareCalls.append(pending)
            return state.spareWatchers.due(at: state.spareCalls.count)
        }
        for watcher in woken { watcher.resume() }
    }

    /// Returns once `closeSpare(pending:)` has been called at least `count` times.
    func untilSpareCalls(_ count: Int) async {
        await until(count, of: { $0.spareCalls.count }, watchers: \.spareWatchers)
    }

    /// Lets every held attempt, now and later, answer.
    func open() {
        let waiting = state.withLock { state in
            state.opened = true
            defer { state.gate = [] }
            return state.gate
        }
        for answer in waiting { answer() }
    }

    /// Answers the attempt held longest, here, on this thread; the gate stays closed for the others.
    func answerOldest() {
        let answer = state.withLock { state in state.gate.isEmpty ? nil : state.gate.removeFirst() }
        answer?()
    }

    /// Returns once at least `count` attempts are held at the gate.
    func untilHeld(_ count: Int) async {
        await until(count, of: { $0.gate.count }, watchers: \.heldWatchers)
    }

    /// Returns once `current` is at least `count`, waiting among `watchers` until then.
    private func until(_ count: Int, of current: (State) -> Int, watchers: WritableKeyPath<State, Watchers>) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if current(state) >= count { return true }
                state[keyPath: watchers].waiting.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    var calls: [Call] { state.withLock { $0.calls } }
    /// Attempts held at the gate now.
    var held: Int { state.withLock { $0.gate.count } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }
    var wasShutDown: Bool { state.withLock { $0.shutDown } }
    /// The `pending` of each `closeSpare(pending:)` call, in order.
    var spareCalls: [Int] { state.withLock { $0.spareCalls } }
}
