import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// `rate_limit`: an endpoint is never sent more than its limit in any window of the limit's unit,
/// retries included, and a 429 or 503 slows it down.
@Suite("Rate limit")
struct RateLimitTests {
    @Test("50/s, 600/min and 1000/h parse; requests start the limit's interval apart, plus 1%")
    func parses() throws {
        #expect(try RateLimit(parsing: "50/s") == RateLimit(count: 50, per: .second))
        #expect(try RateLimit(parsing: "50/s").interval == .microseconds(20_200))
        #expect(try RateLimit(parsing: "600/min").interval == .microseconds(101_000))
        #expect(try RateLimit(parsing: "1000/h").interval == .microseconds(3_636_000))
        #expect(try RateLimit(parsing: "1000/s").description == "1000/s")
        #expect(try RateLimit(parsing: "60000/min").per == .minute)
    }

    @Test("what is not a rate is refused with a sentence saying why", arguments: [
        ("50", "is not a rate"), ("50/day", "is not a rate"), ("50/sec", "is not a rate"), ("/s", "not a whole number"),
        ("0/s", "not a whole number"), ("-5/s", "not a whole number"), ("1.5/s", "not a whole number"), ("x/s", "not a whole number"),
        ("1001/s", "faster than 1000/s"), ("60001/min", "faster than 1000/s"), ("99999999999999999999999/h", "not a whole number"),
        ("5/s/s", "is not a rate"),
    ])
    func refuses(text: String, message: String) {
        #expect {
            _ = try RateLimit(parsing: text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test("delivery.rate_limit is every endpoint's default; an endpoint sets its own or opts out with none")
    func configDefaults() throws {
        let yaml = testConfig(
            endpoints: [
                testEndpoint(name: "a", port: 1),
                testEndpoint(name: "b", port: 2, more: "rate_limit: 600/min"),
                testEndpoint(name: "c", port: 3, more: "rate_limit: none"),
            ].joined(separator: "\n"),
            extra: ""
        ).replacingOccurrences(of: "delivery:\n", with: "delivery:\n  rate_limit: 50/s\n")
        let config = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: [:])
        #expect(config.delivery.rateLimit == RateLimit(count: 50, per: .second))
        #expect(config.endpoints.map(\.rateLimit) == [RateLimit(count: 50, per: .second), RateLimit(count: 600, per: .minute), nil])
        let none = try Config.parse(yaml: testConfig(endpoints: testEndpoint(port: 1)), file: "config.yaml", baseDirectory: "/tmp", environment: [:])
        #expect(none.endpoints.first?.rateLimit == nil)
    }

    @Test("a bad rate_limit is a config error naming its line and key")
    func configMistake() {
        let yaml = testConfig(endpoints: testEndpoint(port: 1, more: "rate_limit: 5000/s"))
        #expect {
            _ = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: "/tmp", environment: [:])
        } throws: { error in
            guard let issue = (error as? ConfigError)?.issues.first else { return false }
            return issue.key == "endpoints[0] (hook).rate_limit" && issue.line == 20 && issue.message.contains("faster than 1000/s")
        }
    }

    @Test("slots are handed out an interval apart, in the order asked; a start sooner than an interval after the last is refused")
    func slots() throws {
        let clock = TestClock()
        let limiter = RateLimiter(limit: try RateLimit(parsing: "10/s"), clock: clock)
        let interval = limiter.base
        #expect(interval == .milliseconds(101))
        #expect(limiter.reserve() == .zero)
        #expect(limiter.reserve() == interval)
        #expect(limiter.reserve() == interval * 2)
        #expect(limiter.take() == nil)
        clock.advance(by: .milliseconds(50))
        #expect(limiter.take() == .milliseconds(51))
        clock.advance(by: .milliseconds(51))
        #expect(limiter.take() == nil)
        // Idle time is not saved up: after a pause the next slot is now, the one after an interval on.
        clock.advance(by: .seconds(10))
        #expect(limiter.reserve() == .zero)
        #expect(limiter.take() == nil)
        #expect(limiter.reserve() == interval)
    }

    @Test("a 429 or 503 halves the rate, down to a sixteenth; delivered answers bring it back a twentieth of the limit at a time")
    func slowsDown() throws {
        let clock = TestClock()
        let limiter = RateLimiter(limit: try RateLimit(parsing: "100/s"), clock: clock)
        let base = limiter.base
        #expect(limiter.take() == nil)
        limiter.slowDown()
        #expect(limiter.interval == base * 2)
        #expect(limiter.reserve() == base * 2, "the next start waits the wider interval")
        for _ in 0..<10 { limiter.slowDown() }
        #expect(limiter.interval == base * 16)
        var answers = 0
        while limiter.interval > base {
            limiter.speedUp()
            answers += 1
        }
        // From a sixteenth of the rate back to all of it: 15/16 of it in steps of 1/20.
        #expect(answers == 19)
        #expect(limiter.interval == base)
    }

    @Test("retries wait for the limit like first attempts, a 503 widens the gap, and the tally counts the waits")
    func dispatcherSpacing() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(200), .status(503), .status(200)], clock: clock)
        let endpoint = try scriptedEndpoint(maxAttempts: 3, backoff: "{initial: 1ms, max: 1ms}", more: "rate_limit: 10/s")
        let lane = scriptedLane(endpoint, transport: transport, clock: clock)
        let dispatcher = scriptedDispatcher(clock: clock)
        // One delivery at a time: then nothing sleeps between a start and the transport's note of
        // it, so the test clock cannot move in between (the limiter's slot order is tested above).
        let outcomes = await clock.run {
            var outcomes: [DeliveryOutcome] = []
            for n in 1...6 { outcomes.append(await dispatcher.deliver(scriptedEvent(line: n, id: "evt_\(n)"), to: lane, firstAttempt: nil)) }
            return outcomes
        }
        #expect(outcomes.allSatisfy { $0 == .delivered })
        let starts = transport.calls.map(\.at)
        #expect(starts.count == 7, "six deliveries, one retried after its 503")
        let interval = try RateLimit(parsing: "10/s").interval
        for (earlier, later) in zip(starts, starts.dropFirst()) {
            #expect(later - earlier >= interval)
        }
        // The start after the 503 waits twice the interval.
        if starts.count == 7 { #expect(starts[2] - starts[1] >= interval * 2) }
        let figures = lane.tally.figures
        #expect(figures.rateLimitWaits >= 5)
        #expect(figures.rateLimitWaitMax >= interval)
        #expect(figures.rateLimitSlowdowns == 1)
    }

    @Test("with or without a rate limit, a 429 or 503 halves the endpoint's window as a timeout does")
    func overloadedHalvesTheWindow() async throws {
        let clock = TestClock()
        let transport = ScriptedTransport([.status(429), .status(503)], clock: clock)
        let lane = scriptedLane(try scriptedEndpoint(maxAttempts: 3, backoff: "{initial: 1ms, max: 1ms}"), transport: transport, clock: clock)
        #expect(lane.window.size == EndpointWindow.initial)
        let outcome = await clock.run { await scriptedDispatcher(clock: clock).deliver(scriptedEvent(), to: lane, firstAttempt: nil) }
        #expect(outcome == .delivered)
        // 5, halved to 2, halved to 1, one more for the 200.
        #expect(lane.window.size == 2)
    }

    /// Answers 503 to the first attempt of every twentieth event, 200 to everything else, and keeps each request's arrival time.
    final class SometimesBusy: Sendable {
        private let seen = Mutex(Set<String>())
        func reply(_ request: ReceivedRequest) -> ReceiverReply {
            let id = request.header("webhook-id") ?? ""
            let first = seen.withLock { $0.insert(id).inserted }
            let number = Int(id.split(separator: "_").last ?? "") ?? 0
            return first && number % 20 == 0 ? ReceiverReply(status: 503) : .ok
        }
    }

    @Test("over a 20-second run with retries, no one-second window sees more than the limit; the report shows the waits")
    func neverOverTheLimitInAnySecond() async throws {
        let ws = try TestWorkspace()
        let events = 420
        try ws.drop("a.ndjson", (1...events).map { #"{"id":"evt_\#($0)","type":"t"}"# })
        let endpoint = SometimesBusy()
        try await LoopbackReceiver.run(handler: endpoint.reply) { receiver in
            let config = testConfig(
                endpoints: testEndpoint(port: receiver.port, more: "rate_limit: 25/s"), concurrency: 64, maxAttempts: 5,
                backoff: "{initial: 10ms, max: 100ms}"
            )
            let outcome = try await ws.run(config)
            #expect(outcome.exitStatus == .ok)
            let times = receiver.requests.map(\.receivedAt).sorted()
            let busy = events / 20
            #expect(times.count == events + busy)
            // Every window of one second that starts at an arrival holds at most 25 arrivals.
            var most = 0
            var end = 0
            for start in times.indices {
                while end < times.count, times[start].duration(to: times[end]) < .seconds(1) { end += 1 }
                most = max(most, end - start)
            }
            #expect(most <= 25, "\(most) requests arrived within one second")
            #expect(most >= 20, "the limit, not something else, set the pace: \(most) at most in a second")
            if let first = times.first, let last = times.last { #expect(first.duration(to: last) >= .seconds(19)) }
            let rate = outcome.report.endpoints.first?.rateLimit
            #expect(rate?.limit == "25/s")
            #expect(rate?.slowdowns == busy)
            #expect((rate?.waited ?? 0) > events / 2)
            #expect((rate?.waitTotalMs ?? 0) > 0)
        }
    }
}
