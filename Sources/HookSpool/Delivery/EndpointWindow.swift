import NIOCore
import Synchronization

/// How many requests one endpoint may have in flight: a few at first, one more after each answer,
/// up to its concurrency, and half as many after each connection failure, timeout, 429 or 503
/// (Postfix's slow start). An endpoint that never answers holds few of the run's slots until its circuit opens.
///
/// An endpoint that ended the last run healthy starts where that run left it (`resume`), up to an
/// equal part of the run's concurrency (`startLimit`), so that one which stopped answering since
/// holds no more than that of the others' slots; its first answer takes it the rest of the way.
final class EndpointWindow: Sendable {
    /// Requests in flight allowed before the endpoint has answered anything: as many as open the
    /// circuit (`CircuitBreaker.threshold`), so an endpoint that never answers opens it after one timeout.
    static let initial = 5

    private struct State {
        var size: Int
        /// The window to take at the first answer, from the last run; nil once answered or failed.
        var resume: Int?
        /// Before the first answer, the window a failure halves: a cold start's, whatever it resumed at.
        var cold: Int
        var inFlight = 0
        var waiters = CircularBuffer<Grant>()
    }

    /// What a waiter is given its place through.
    private enum Grant {
        case task(CheckedContinuation<Void, Never>)
        case call(@Sendable () -> Void)

        /// Hands the waiter its place (outside the lock).
        func give() {
            switch self {
            case .task(let continuation): continuation.resume()
            case .call(let body): body()
            }
        }
    }

    /// The endpoint's concurrency: the window never grows past it.
    let limit: Int
    private let state: Mutex<State>

    /// A window for an endpoint of concurrency `limit`; `resume`: the window the last run ended
    /// with, where this one starts (up to `startLimit`) and which it takes (up to `limit`) at its
    /// first answer.
    init(limit: Int, resume: Int? = nil, startLimit: Int = .max) {
        let limit = max(1, limit)
        let cold = min(limit, Self.initial)
        let resume = resume.map { min(limit, $0) }.flatMap { $0 > cold ? $0 : nil }
        self.limit = limit
        state = Mutex(State(size: max(cold, min(resume ?? cold, startLimit)), resume: resume, cold: cold))
    }

    /// The current window, for tests and logs.
    var size: Int { state.withLock { $0.size } }

    /// Requests waiting for a place, for tests.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Waits until one more request fits in the window, and takes its place.
    func acquire() async {
        if tryTake() { return }
        await withCheckedContinuation { continuation in
            if enqueue(.task(continuation)) { continuation.resume() }
        }
    }

    /// Takes a place and calls `granted`: now, on this thread, if one fits and nobody waits; else
    /// on the thread that gives one back, in turn. Holding no lock either way.
    func acquire(then granted: @escaping @Sendable () -> Void) {
        if tryTake() || enqueue(.call(granted)) { granted() }
    }

    private func tryTake() -> Bool {
        state.withLock { state -> Bool in
            guard state.inFlight < state.size, state.waiters.isEmpty else { return false }
            state.inFlight += 1
            return true
        }
    }

    /// Takes a place if one fits now (true), else queues `grant` for one.
    private func enqueue(_ grant: Grant) -> Bool {
        state.withLock { state -> Bool in
            if state.inFlight < state.size && state.waiters.isEmpty {
                state.inFlight += 1
                return true
            }
            state.waiters.append(grant)
            return false
        }
    }

    /// Gives a place back. `answered`: true when the endpoint answered (any status but 429 and 503),
    /// false when the connection failed or timed out or the endpoint said it is overloaded (429,
    /// 503), nil when the attempt never started.
    func release(answered: Bool?) {
        let woken = state.withLock { state -> (first: Grant?, more: [Grant]) in
            state.inFlight -= 1
            switch answered {
            case true?:
                state.size = max(min(limit, state.size + 1), state.resume ?? 0)
                state.resume = nil
            case false?:
                // Before any answer, from a cold start's window: the last run's health no longer holds.
                state.size = max(1, (state.resume == nil ? state.size : state.cold) / 2)
                state.resume = nil
            case nil: break
            }
            // Usually one place, or none, is given: the array is made only for more.
            guard state.inFlight < state.size, let first = state.waiters.popFirst() else { return (nil, []) }
            state.inFlight += 1
            var more: [Grant] = []
            while state.inFlight < state.size, let next = state.waiters.popFirst() {
                state.inFlight += 1
                more.append(next)
            }
            return (first, more)
        }
        woken.first?.give()
        for waiter in woken.more { waiter.give() }
    }
}
