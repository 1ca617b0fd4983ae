import NIOCore
import Synchronization

extension Dispatcher {
    /// Makes attempt `number` once the lane's window and a global slot are free, and returns it
    /// with the outcome it settled (a 2xx, or a permanent failure), if any; nil when it did not
    /// start because the lane was sidelined or held, or the run stopped, while it waited.
    ///
    /// The request leaves from the thread that frees its place, and its answer is settled and its
    /// slots handed on from the thread that reads it: an answer's slot carries the next request
    /// without waiting for either delivery's task to run.
    func attempt(
        _ number: Int, of event: Event, to lane: EndpointLane, settled: @escaping @Sendable (DeliveryOutcome) -> Void
    ) async -> (Attempt, settled: DeliveryOutcome?)? {
        let queued = QueuedAttempt(number: number, event: event, lane: lane, dispatcher: self, settled: settled)
        var ending = await queued.wait { queued.queue() }
        while true {
            switch ending {
            case .rateLimited(let limiter):
                // Holds its window place: waits for the rate limit and a slot here, then sends.
                guard await startSlot(for: lane, within: limiter) else {
                    lane.window.release(answered: nil)
                    return nil
                }
                ending = await queued.wait { queued.send() }
            case .notStarted(let holdsSlot):
                if holdsSlot { global.release() }
                lane.window.release(answered: nil)
                return nil
            case .answered(let attempt, let outcome):
                return (attempt, outcome)
            case .answeredAtOnce(let attempt):
                // Known before it was under way (never sent, or a scripted answer): settled here, on
                // its own task, so that the slots it frees never start another request inside this one's start.
                return (attempt, settle(attempt, to: lane, cancelled: Task.isCancelled, settled: settled))
            }
        }
    }

    /// What an attempt's end says about the endpoint, seen by the deliveries waiting for its slots
    /// before they get them (a Retry-After, a 410, the failure that opens its circuit); the outcome
    /// it settles, recorded through `settled` before another request takes its place; then its
    /// slots go back. Returns the settled outcome.
    func settle(
        _ attempt: Attempt, to lane: EndpointLane, cancelled: Bool, settled: (DeliveryOutcome) -> Void
    ) -> DeliveryOutcome? {
        if attempt.verdict == .retry, let retryAfter = attempt.retryAfter, retryAfter > .zero {
            lane.hold.extend(by: retryAfter)
        }
        if !cancelled || attempt.verdict == .delivered {
            sideline(lane, after: attempt)
        }
        let overloaded = attempt.result == .response(status: 429) || attempt.result == .response(status: 503)
        if let limiter = lane.rateLimiter {
            if overloaded {
                limiter.slowDown()
                lane.tally.rateLimitSlowdown()
            } else if attempt.verdict == .delivered {
                limiter.speedUp()
            }
        }
        // A killed run resends what it sent but had not recorded: never more than the slots.
        var outcome: DeliveryOutcome?
        switch attempt.verdict {
        case .delivered: outcome = .delivered
        case .permanent where !cancelled: outcome = .failed(DeliveryFailure(after: attempt))
        default: break
        }
        if let outcome { settled(outcome) }
        global.release()
        // 429 and 503 say the endpoint is overloaded: fewer in flight, as after a timeout.
        if case .response = attempt.result, !overloaded {
            lane.window.release(answered: true)
        } else if attempt.result == .failure(.noValidSecret) {
            lane.window.release(answered: nil)
        } else {
            lane.window.release(answered: false)
        }
        return outcome
    }

    /// Waits for the lane's rate limit and a global slot; false when the request must not start
    /// after all (the lane was sidelined or held, or the run stopped, meanwhile). The time spent
    /// waiting for the limit is counted in the lane's tally.
    private func startSlot(for lane: EndpointLane, within limiter: RateLimiter) async -> Bool {
        var waited = Duration.zero
        var wait = limiter.reserve()
        while true {
            if wait > .zero {
                let before = clock.uptime
                await control.sleep(for: wait, on: clock, unless: lane.sidelined)
                waited += clock.uptime - before
            }
            if mustNotStart(lane) { return false }
            await global.acquire()
            if mustNotStart(lane) {
                global.release()
                return false
            }
            guard let left = limiter.take() else { break }
            // Slots reserved before a slowdown, or a start delayed by the global wait: wait the
            // rest holding no slot, so that other endpoints' requests go meanwhile.
            global.release()
            wait = left
        }
        if waited > .zero { lane.tally.rateLimitWait(waited) }
        return true
    }
}

/// One attempt from its wait for a window place and a global slot to its answer, driven by
/// whoever frees a place, a slot, or reads the answer; its delivery's task waits for its end.
///
/// Nothing here gives a place or a slot back while it waits or starts: an attempt that must not
/// start ends holding them, and its task gives them back. So a place handed on never starts
/// another request inside the one that handed it on.
private final class QueuedAttempt: Sendable {
    /// How the wait ended.
    enum Ending: Sendable {
        /// It did not start; it holds its window place, and a global slot when `holdsSlot`.
        case notStarted(holdsSlot: Bool)
        /// It holds its window place; the lane's rate limit is waited for on the task.
        case rateLimited(RateLimiter)
        /// The answer came and was settled; its slots went back.
        case answered(Attempt, settled: DeliveryOutcome?)
        /// The attempt was over before it was under way; it holds its place and its slot.
        case answeredAtOnce(Attempt)
    }

    private struct State {
        var continuation: CheckedContinuation<Ending, Never>?
        var handle: AttemptHandle?
        var cancelled = false
        /// `Transport.start` has not returned yet: an answer now is kept for the task to settle.
        var starting = false
        var early: Attempt?
    }

    private let number: Int
    private let event: Event
    private let lane: EndpointLane
    private let dispatcher: Dispatcher
    private let settled: @Sendable (DeliveryOutcome) -> Void
    private let state = Mutex(State())

    init(number: Int, event: Event, lane: EndpointLane, dispatcher: Dispatcher, settled: @escaping @Sendable (DeliveryOutcome) -> Void) {
        self.number = number
        self.event = event
        self.lane = lane
        self.dispatcher = dispatcher
        self.settled = settled
    }

    /// Runs `begin` and waits for the ending it leads to; the task's cancellation abandons the
    /// request once it is under way (a queued attempt that is cancelled does not start).
    func wait(_ begin: () -> Void) async -> Ending {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                state.withLock { $0.continuation = continuation }
                begin()
            }
        } onCancel: {
            state.withLock { state in
                state.cancelled = true
                return state.handle
            }?.cancel()
        }
    }

    /// Waits in the lane's window, then for a global slot.
    func queue() {
        lane.window.acquire { [self] in
            // Checked before taking a global slot too: after a circuit opens, the deliveries
            // queued for the endpoint leave at once instead of each waiting behind healthy traffic.
            if mustNotStart() {
                end(.notStarted(holdsSlot: false))
            } else if let limiter = lane.rateLimiter {
                end(.rateLimited(limiter))
            } else {
                dispatcher.global.acquire { [self] in
                    if mustNotStart() {
                        end(.notStarted(holdsSlot: true))
                    } else {
                        send()
                    }
                }
            }
        }
    }

    /// Signs and sends the request, holding a window place and a global slot.
    func send() {
        let clock = dispatcher.clock
        guard let headers = RequestHeaders.signature(for: event, signing: lane.endpoint.signing, timestamp: clock.unixSeconds) else {
            // Never sent unsigned: retried, then left for a later run (whose config must list a valid secret).
            end(.answeredAtOnce(Attempt(number: number, result: .failure(.noValidSecret), latency: .zero)))
            return
        }
        state.withLock { $0.starting = true }
        let handle = lane.transport.start(headers: headers, body: event.body, timeout: lane.endpoint.timeout, attempt: number) { [self] attempt in
            answered(attempt)
        }
        let (early, cancelled) = state.withLock { state in
            state.starting = false
            state.handle = handle
            return (state.early, state.cancelled)
        }
        if let early {
            end(.answeredAtOnce(early))
        } else if cancelled {
            handle.cancel()
        }
    }

    private func answered(_ attempt: Attempt) {
        let cancelled = state.withLock { state -> Bool? in
            if state.starting {
                state.early = attempt
                return nil
            }
            return state.cancelled
        }
        guard let cancelled else { return }
        let outcome = dispatcher.settle(attempt, to: lane, cancelled: cancelled, settled: settled)
        end(.answered(attempt, settled: outcome))
    }

    private func mustNotStart() -> Bool {
        state.withLock { $0.cancelled } || dispatcher.mustNotStart(lane)
    }

    private func end(_ ending: Ending) {
        guard let continuation = state.withLock({ state in
            defer { state.continuation = nil }
            return state.continuation
        }) else { return }
        // On an event loop, the waiting task resumes with the others that loop ends now.
        LoopTick.later { continuation.resume(returning: ending) }
    }
}
