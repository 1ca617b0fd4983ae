import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing
@testable import HookSpool

/// The dispatcher's retry policy, on a test clock with a scripted transport: no sockets, no real time.
@Suite("Dispatcher")
struct DispatcherTests {
    @Test("retries wait the backoff (full jitter under each ceiling) and stop at the first 2xx; each attempt is signed at its own time")
    func retryTiming() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(500), .status(503)], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 5, backoff: "{initial: 1s, max: 30s}"), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock)
        let outcome = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(outcome == .delivered)
        let calls = transport.calls
        #expect(calls.map(\.number) == [1, 2, 3])
        #expect(calls[0].at == .zero)
        #expect(calls[1].at - calls[0].at <= .seconds(1))
        #expect(calls[2].at - calls[1].at <= .seconds(2))
        for call in calls {
            let signedAt = Int64(clock.unixOrigin + call.at.seconds)
            #expect(call.headers["webhook-timestamp"].first == String(signedAt))
        }
        #expect(lane.tally.figures.attempts == 3)
        #expect(lane.tally.figures.statusCodes == ["500": 1, "503": 1, "200": 1])
    }

    @Test("a retryable status on every attempt fails for good with retries_exhausted when retry_for is zero")
    func exhausted() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .status(503, excerpt: "busy"), clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 3), transport: transport, clock: clock)
        let outcome = await clock.run { await scriptedDispatcher(clock: clock).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(outcome == .failed(DeliveryFailure(attempts: 3, lastStatus: 503, reason: .retriesExhausted, responseExcerpt: "busy")))
        #expect(transport.calls.count == 3)
    }

    @Test("a permanent status is not retried; a 3xx is not followed")
    func permanent() async throws {
        for (status, reason) in [(400, FailureReason.rejected), (301, .redirectNotFollowed)] {
            let clock = TestClock()
            let transport = ScriptedTransport([.status(status)], clock: clock)
            let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 5), transport: transport, clock: clock)
            let outcome = await clock.run { await scriptedDispatcher(clock: clock).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
            #expect(outcome == .failed(DeliveryFailure(attempts: 1, lastStatus: status, reason: reason)))
            #expect(transport.calls.count == 1)
        }
    }

    @Test("with retry_for left, a delivery whose attempts ran out is deferred, its retry_for window starting at its first attempt")
    func deferredWithinRetryFor() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .failure(.connectionClosed), clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 2), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock, retryFor: .seconds(3600))
        let fresh = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        let start = Int64(clock.unixOrigin)
        #expect(fresh == .deferred(DeliveryFailure(attempts: 2, reason: .transport(.connectionClosed)), firstAttempt: start, notBefore: nil))
        // Tried first by a run more than retry_for ago: failed for good.
        let old = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: start - 3600) }
        #expect(old == .failed(DeliveryFailure(attempts: 2, reason: .transport(.connectionClosed))))
    }

    @Test("Retry-After within the backoff's cap: the next attempt comes exactly when asked, not a moment before")
    func retryAfterWaited() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(429, retryAfter: .seconds(3))], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 3, backoff: "{initial: 1s, max: 30s}"), transport: transport, clock: clock)
        let outcome = await clock.run { await scriptedDispatcher(clock: clock).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(outcome == .delivered)
        let times = transport.calls.map(\.at)
        #expect(times.count == 2)
        // Waited to the millisecond, rounded up (wall-clock seconds as a Double carry a little error).
        #expect(times.last.map { $0 >= .seconds(3) && $0 <= .milliseconds(3002) } == true)
    }

    @Test("Retry-After past the backoff's cap defers at once, due when the endpoint said, and is recorded for later runs")
    func retryAfterDeferred() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(429, retryAfter: .seconds(120))], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 5, backoff: "{initial: 1s, max: 30s}"), transport: transport, clock: clock)
        let recorded = Mutex<[Double]>([])
        let dispatcher = scriptedDispatcher(clock: clock, retryFor: .seconds(3600)) { _, until in recorded.withLock { $0.append(until) } }
        let first = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        let start = Int64(clock.unixOrigin)
        #expect(first == .deferred(DeliveryFailure(attempts: 1, lastStatus: 429, reason: .retriesExhausted), firstAttempt: start, notBefore: start + 120))
        #expect(recorded.withLock { $0 } == [clock.unixOrigin + 120])
        // Another delivery to the held endpoint: no attempt at all.
        let second = await clock.run { await dispatcher.deliver(scriptedEvent(line: 2), to: lane, firstAttempt: nil) }
        #expect(second == .deferred(DeliveryFailure(attempts: 0, reason: .retryAfter), firstAttempt: start, notBefore: start + 120))
        #expect(transport.calls.count == 1)
    }

    @Test("a Retry-After that ends after retry_for fails for good with retry_after_past_retry_for")
    func retryAfterPastRetryFor() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(503, retryAfter: .seconds(7200))], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 5), transport: transport, clock: clock)
        let outcome = await clock.run { await scriptedDispatcher(clock: clock, retryFor: .seconds(3600)).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(outcome == .failed(DeliveryFailure(attempts: 1, lastStatus: 503, reason: .retryAfterPastRetryFor)))
    }

    @Test("five connection failures in a row open the circuit: the delivery is deferred at once, and nothing more is sent to the endpoint")
    func circuitOpens() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .failure(.connectError), clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 10), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock, retryFor: .seconds(3600))
        let start = Int64(clock.unixOrigin)
        let first = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(first == .deferred(DeliveryFailure(attempts: 5, reason: .circuitOpen), firstAttempt: start, notBefore: nil))
        #expect(lane.circuit.isOpen)
        let now = clock.unixSeconds
        let next = await clock.run { await dispatcher.deliver(scriptedEvent(line: 2), to: lane, firstAttempt: nil) }
        #expect(next == .deferred(DeliveryFailure(attempts: 0, reason: .circuitOpen), firstAttempt: now, notBefore: nil))
        #expect(transport.calls.count == 5)
    }

    @Test("a 410 disables the endpoint for the run: its deliveries wait, unattempted, whatever retry_for says")
    func goneDisables() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(410)], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock)
        let first = await clock.run { await dispatcher.deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(first == .failed(DeliveryFailure(attempts: 1, lastStatus: 410, reason: .rejected)))
        #expect(lane.disabled.reason == "answered 410 Gone")
        #expect(lane.tally.figures.disabled == "answered 410 Gone")
        let next = await clock.run { await dispatcher.deliver(scriptedEvent(line: 2), to: lane, firstAttempt: nil) }
        #expect(next == .deferred(DeliveryFailure(attempts: 0, reason: .endpointDisabled), firstAttempt: Int64(clock.unixOrigin), notBefore: nil))
        #expect(transport.calls.count == 1)
    }

    @Test("slow start: an endpoint that has not answered yet gets five requests in flight; the rest wait for its window")
    func slowStart() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .held(status: 200), clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(more: "concurrency: 16"), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock)
        try await withThrowingTaskGroup(of: DeliveryOutcome.self) { group in
            for line in 1...20 {
                group.addTask { await dispatcher.deliver(scriptedEvent(line: line), to: lane, firstAttempt: nil) }
            }
            await transport.untilHeld(5)
            // Every other delivery reaches the window and waits there; none gets past it.
            while lane.window.waiting < 15 { await Task.yield() }
            #expect(transport.held == 5)
            #expect(lane.window.waiting == 15)
            transport.open()
            for try await outcome in group { #expect(outcome == .delivered) }
        }
        #expect(transport.calls.count == 20)
        #expect(lane.window.size > 5)
        #expect(transport.maxInFlight <= 16)
    }

    @Test("an answer's place carries the next queued request at once, from the thread that read the answer, before any task runs")
    func answerHandsOver() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(then: .held(status: 200), clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(more: "concurrency: 1"), transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock)
        try await withThrowingTaskGroup(of: DeliveryOutcome.self) { group in
            for line in 1...3 {
                group.addTask { await dispatcher.deliver(scriptedEvent(line: line), to: lane, firstAttempt: nil) }
            }
            await transport.untilHeld(1)
            while lane.window.waiting < 2 { await Task.yield() }
            // Answered on an event loop's thread, as the HTTP transport reads answers: the next
            // request has left before that thread is done, not after a task has been woken for it.
            try await MultiThreadedEventLoopGroup.singleton.any().submit { transport.answerOldest() }.get()
            let calls = transport.calls
            #expect(calls.count == 2)
            #expect(calls.last?.onEventLoop == true)
            #expect(lane.window.waiting == 1)
            transport.open()
            for try await outcome in group { #expect(outcome == .delivered) }
        }
        #expect(transport.calls.count == 3)
        #expect(transport.maxInFlight == 1)
    }

    @Test("a host that did not resolve defers without an attempt; one that resolves to a refused address fails")
    func resolution() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport(clock: clock)
        let endpoint = try scriptedEndpoint()
        let dispatcher = scriptedDispatcher(clock: clock, retryFor: .seconds(3600))
        let unresolved = EndpointLane(
            endpoint: endpoint, resolution: .unresolved(reason: "NXDOMAIN"), transport: transport, share: AsyncSemaphore(permits: 1),
            tally: EndpointTally(), clock: clock
        )
        let refused = EndpointLane(
            endpoint: endpoint, resolution: .refused(address: "10.0.0.1", category: "private"), transport: transport, share: AsyncSemaphore(permits: 1),
            tally: EndpointTally(), clock: clock
        )
        let start = Int64(clock.unixOrigin)
        #expect(await dispatcher.deliver(scriptedEvent(), to: unresolved, firstAttempt: nil) == .deferred(DeliveryFailure(attempts: 0, reason: .transport(.dnsError)), firstAttempt: start, notBefore: nil))
        #expect(await dispatcher.deliver(scriptedEvent(), to: refused, firstAttempt: nil) == .failed(DeliveryFailure(attempts: 0, reason: .transport(.addressNotAllowed))))
        #expect(transport.calls.isEmpty)
    }
}
