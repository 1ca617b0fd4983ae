// Delivery stage. Takes an event and the endpoint's lane (settings, transport, limits, state);
// gives a DeliveryOutcome (delivered, failed or deferred, with a typed reason), after every attempt it took.

import Logging

/// Delivers events to endpoint lanes within the global and per-endpoint limits, retrying with backoff.
///
/// A delivery holds a concurrency permit only while its request is in flight (and, for an answer
/// that settles it, until the caller has recorded that); a retry that waits for its backoff holds none. When a run's attempts are used up on a retryable failure, the
/// delivery is deferred to a later run while `retry_for` has not run out since its first attempt.
/// A permit that an answer frees carries the next queued request from the thread that read the
/// answer (`attempt(_:of:to:settled:)`); the delivery's task waits only for the end of its attempt.
final class Dispatcher: Sendable {
    let global: AsyncSemaphore
    private let retryWindow: RetryWindow
    let control: RunControl
    let clock: any RunClock
    private let logger: Logger
    /// Keeps a lane's `Retry-After` wait (unix seconds) for the runs that start while it lasts.
    private let recordHold: @Sendable (_ lane: EndpointLane, _ untilUnix: Double) -> Void

    init(
        concurrency: Int, retryFor: Duration, control: RunControl, clock: any RunClock, logger: Logger,
        recordHold: @escaping @Sendable (_ lane: EndpointLane, _ untilUnix: Double) -> Void = { _, _ in }
    ) {
        global = AsyncSemaphore(permits: concurrency, clock: clock)
        retryWindow = RetryWindow(retryFor: retryFor)
        self.control = control
        self.clock = clock
        self.logger = logger
        self.recordHold = recordHold
    }

    /// Delivers `event` to `lane` until it succeeds, fails for good, is deferred, or the run stops.
    ///
    /// - Parameters:
    ///   - firstAttempt: when an earlier run first tried this delivery (unix seconds), if one did.
    ///   - settled: called with the outcome when an answer settles it (delivered, or failed for
    ///     good), before the attempt's slots go back, so that the caller can record it before
    ///     another request takes its place; the same outcome is then returned. It runs on the
    ///     thread that reads the answer (an event loop's): it must not block.
    func deliver(
        _ event: Event, to lane: EndpointLane, firstAttempt: Int64?, settled: @escaping @Sendable (DeliveryOutcome) -> Void = { _ in }
    ) async -> DeliveryOutcome {
        // Rendered once: every attempt sends, and signs, the same bytes.
        let event = lane.endpoint.request(for: event)
        let started = firstAttempt ?? clock.unixSeconds
        switch lane.resolution {
        case .unresolved:
            return leave(DeliveryFailure(attempts: 0, reason: .transport(.dnsError)), firstAttempt: started)
        case .refused:
            return .failed(DeliveryFailure(attempts: 0, reason: .transport(.addressNotAllowed)))
        case .direct, .pinned:
            break
        }

        var random = SystemRandomNumberGenerator()
        var number = 0
        while true {
            if control.isStopping || Task.isCancelled { return .interrupted }
            if lane.disabled.reason != nil {
                return leave(DeliveryFailure(attempts: number, reason: .endpointDisabled), firstAttempt: started)
            }
            if lane.circuit.isOpen {
                return leave(DeliveryFailure(attempts: number, reason: .circuitOpen), firstAttempt: started)
            }
            // The endpoint asked to wait (Retry-After): never send sooner; a wait longer than this
            // run waits between attempts leaves the delivery to a later run, due then.
            let wait = lane.hold.remaining()
            if wait > 0 {
                if Duration.seconds(wait) > lane.retryPolicy.backoff.max {
                    return leave(DeliveryFailure(attempts: number, reason: .retryAfter), firstAttempt: started, notBefore: lane.hold.untilUnix)
                }
                await control.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))), on: clock, unless: lane.sidelined)
                if control.isStopping { return .interrupted }
                continue
            }
            number += 1
            guard let (attempt, settledBy) = await attempt(number, of: event, to: lane, settled: settled) else {
                // Woke up to a stop, an open circuit, a disabled endpoint or a Retry-After that came
                // meanwhile: this attempt never started (the top of the loop waits or defers).
                number -= 1
                continue
            }
            if let settledBy {
                record(attempt, of: event, to: lane)
                return settledBy
            }
            if Task.isCancelled, attempt.verdict != .delivered {
                // Cut off by a forced stop: the outcome is unknown, so the delivery stays pending.
                // (A 2xx that made it back counts: the receiver has it.)
                return .interrupted
            }
            record(attempt, of: event, to: lane)
            switch attempt.verdict {
            case .delivered:
                return .delivered
            case .permanent:
                return .failed(DeliveryFailure(after: attempt))
            case .retry:
                // The hold (set by the attempt) keeps every delivery to the endpoint; the top of the loop waits it out or defers.
                let asked = Duration.seconds(lane.hold.remaining())
                if asked > lane.retryPolicy.backoff.max, let until = lane.hold.toRecord() {
                    // Longer than this run waits: runs that start meanwhile must hold too.
                    recordHold(lane, until)
                }
                if number >= lane.retryPolicy.maxAttempts || asked > lane.retryPolicy.backoff.max {
                    return leave(DeliveryFailure(after: attempt), firstAttempt: started, notBefore: lane.hold.activeUntil)
                }
                // The backoff always, Retry-After or not (a `Retry-After: 0` is no reason to hammer);
                // the top of the loop then waits out whatever remains of the endpoint's wait.
                let backoff = lane.retryPolicy.delay(afterAttempt: number, retryAfter: nil, using: &random)
                await control.sleep(for: backoff, on: clock, unless: lane.sidelined)
                if control.isStopping { return .interrupted }
            }
        }
    }

    /// Whether a request to `lane` must not start now: the run stops, or the lane is sidelined or held.
    func mustNotStart(_ lane: EndpointLane) -> Bool {
        control.isStopping || lane.circuit.isOpen || lane.disabled.reason != nil || lane.hold.remaining() > 0
    }

    /// Opens the lane's circuit, or disables the endpoint, when the attempt says so.
    func sideline(_ lane: EndpointLane, after attempt: Attempt) {
        if lane.circuit.record(attempt) {
            lane.sidelined.fire()
            logger.error(
                "endpoint keeps failing to connect; not sending to it for the rest of this run",
                metadata: ["hookspool.endpoint": "\(lane.name)", "consecutive_failures": "\(lane.circuit.threshold)"]
            )
        }
        if case .response(410) = attempt.result, lane.disabled.disable(because: "answered 410 Gone") {
            lane.sidelined.fire()
            lane.tally.disabled(because: "answered 410 Gone")
            logger.error(
                "ENDPOINT DISABLED: it answered 410 Gone; its deliveries wait until `hookspool endpoints enable \(lane.name)`",
                metadata: ["hookspool.endpoint": "\(lane.name)"]
            )
        }
    }

    /// Counts a finished attempt in the lane's tally.
    private func record(_ attempt: Attempt, of event: Event, to lane: EndpointLane) {
        lane.tally.attempt(attempt)
        logger.debug(
            "attempt",
            metadata: [
                "hookspool.endpoint": "\(lane.name)", "hookspool.event_id": "\(event.id)", "hookspool.attempt": "\(attempt.number)",
                "http.status": "\(attempt.statusKey)", "latency_ms": "\(attempt.latency.milliseconds)",
            ]
        )
    }

    /// A delivery this run gives up on: deferred to a later run or failed for good, by `retry_for`.
    private func leave(_ failure: DeliveryFailure, firstAttempt: Int64, notBefore: Double? = nil) -> DeliveryOutcome {
        retryWindow.outcome(failure, firstAttempt: firstAttempt, notBefore: notBefore, now: clock.unixSeconds)
    }
}
