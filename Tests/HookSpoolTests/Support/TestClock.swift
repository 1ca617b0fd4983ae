import Synchronization
@testable import HookSpool

/// A clock the test moves: `sleep` waits until the clock is advanced past its deadline; no real time passes.
final class TestClock: RunClock {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, Never>
    }

    private struct State {
        var now = Duration.zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextID: UInt64 = 0
        /// Waiters for "at least `count` sleepers, or done".
        var watchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var done = false
    }

    private let state = Mutex(State())
    /// The wall-clock time at uptime zero.
    let unixOrigin: Double

    init(unixTime: Double = 1_800_000_000) {
        unixOrigin = unixTime
    }

    var uptime: Duration { state.withLock { $0.now } }

    var unixTime: Double { unixOrigin + uptime.seconds }

    func sleep(for duration: Duration) async {
        guard duration > .zero else { return }
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let (now, woken) = state.withLock { state -> (Bool, [CheckedContinuation<Void, Never>]) in
                    if Task.isCancelled { return (true, []) }
                    state.sleepers[id] = Sleeper(deadline: state.now + duration, continuation: continuation)
                    return (false, Self.watchersDue(&state))
                }
                if now { continuation.resume() }
                for watcher in woken { watcher.resume() }
            }
        } onCancel: {
            let sleeper = state.withLock { $0.sleepers.removeValue(forKey: id) }
            sleeper?.continuation.resume()
        }
    }

    /// How many tasks sleep on this clock now.
    var sleeping: Int { state.withLock { $0.sleepers.count } }

    /// Moves time on by `duration`, waking every sleeper whose deadline has come.
    func advance(by duration: Duration) {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.now += duration
            return Self.dueSleepers(&state)
        }
        for sleeper in woken { sleeper.resume() }
    }

    /// Moves time to the earliest sleeper's deadline and wakes it (and any due with it).
    func advanceToNextDeadline() {
        let woken = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard let next = state.sleepers.values.map(\.deadline).min() else { return [] }
            state.now = max(state.now, next)
            return Self.dueSleepers(&state)
        }
        for sleeper in woken { sleeper.resume() }
    }

    /// Returns once at least `count` tasks sleep on this clock (or `run`'s body has returned).
    func untilSleeping(_ count: Int) async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.done || state.sleepers.count >= count { return true }
                state.watchers.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Runs `body`, moving time to the next deadline each time `flows` tasks sleep, until it
    /// returns: a run of retries, backoffs and holds in no real time.
    func run<T: Sendable>(flows: Int = 1, _ body: @escaping @Sendable () async -> T) async -> T {
        state.withLock { $0.done = false }
        let task = Task {
            let value = await body()
            let woken = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.done = true
                defer { state.watchers = [] }
                return state.watchers.map(\.continuation)
            }
            for watcher in woken { watcher.resume() }
            return value
        }
        while true {
            await untilSleeping(flows)
            if state.withLock({ $0.done }) { break }
            advanceToNextDeadline()
        }
        return await task.value
    }

    private static func dueSleepers(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let due = state.sleepers.filter { $0.value.deadline <= state.now }
        for id in due.keys { state.sleepers[id] = nil }
        return due.values.map(\.continuation)
    }

    private static func watchersDue(_ state: inout State) -> [CheckedContinuation<Void, Never>] {
        let count = state.sleepers.count
        let due = state.watchers.filter { $0.count <= count }
        state.watchers.removeAll { $0.count <= count }
        return due.map(\.continuation)
    }
}
