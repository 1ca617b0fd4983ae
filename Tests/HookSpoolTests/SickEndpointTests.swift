import Foundation
import Synchronization
import HookSpoolReceiver
import InMemoryLogging
import Logging
import Testing
@testable import HookSpool

/// One endpoint that stops answering must not hold up the others: it gets few request slots until
/// it answers (slow start), and at most half of the read-ahead window.
@Suite("Sick endpoint")
struct SickEndpointTests {
    /// A config with these endpoint blocks and 16 requests in flight.
    static func config(_ ws: borrowing TestWorkspace, retryFor: String = "0s", _ endpoints: String...) throws -> Config {
        try ws.config(testConfig(endpoints: endpoints.joined(separator: "\n"), concurrency: 16, retryFor: retryFor))
    }

    /// Runs `batch` until `done()` holds or `limit` passes, then stops it, cutting off the requests
    /// in flight: whether `done()` held, and the run's outcome.
    static func run(
        _ batch: BatchRun, within limit: Duration, until done: @escaping @Sendable () -> Bool
    ) async throws -> (met: Bool, outcome: BatchRun.Outcome) {
        let run = Task { await batch.run() }
        let clock = ContinuousClock()
        let start = clock.now
        var met = false
        while start.duration(to: clock.now) < limit {
            if done() {
                met = true
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        batch.control.requestStop()
        run.cancel()
        return (met, await run.value)
    }

    @Test("slow start: five in flight at first, one more per answer up to the limit, half as many after a failure")
    func slowStart() async {
        let window = EndpointWindow(limit: 8)
        #expect(window.size == 5)
        for _ in 0..<5 { await window.acquire() }
        // A sixth waits until a place is given back.
        let sixth = Task { await window.acquire() }
        window.release(answered: true)  // 6 places now: the waiter and one more fit
        await sixth.value
        #expect(window.size == 6)
        await window.acquire()
        for _ in 0..<7 { window.release(answered: true) }
        #expect(window.size == 8)
        await window.acquire()
        window.release(answered: false)
        #expect(window.size == 4)
        let small = EndpointWindow(limit: 2)
        #expect(small.size == 2)
    }

    @Test("two endpoints that never answer: the healthy one gets every delivery while their first requests wait; each gets five")
    func hangingEndpointDoesNotHoldUpOthers() async throws {
        let ws = try TestWorkspace()
        let count = 1_500
        try ws.drop("a.ndjson", DurabilityTests.events(count, prefix: "h"))
        try await ScriptedHTTPServer.run({ _ in .silence }) { hanging in
            try await LoopbackReceiver.run(handler: { _ in .ok }) { healthy in
                // The hanging endpoints' first requests wait 60 s for their timeout; the healthy
                // endpoint must get all its deliveries meanwhile. (Before, it stopped at about 500,
                // the read-ahead window full of deliveries waiting for the hanging ones.)
                let config = try Self.config(
                    ws, retryFor: "1h",
                    testEndpoint(name: "hanging", port: hanging.port, path: "/a", more: "timeout: 60s"),
                    testEndpoint(name: "healthy", port: healthy.port),
                    testEndpoint(name: "hanging-too", port: hanging.port, path: "/b", more: "timeout: 60s")
                )
                let monitor = RunMonitor()
                let batch = BatchRun(config: config, monitor: monitor, logger: .quiet)
                // Only the healthy endpoint can deliver anything. The run is stopped rather than
                // left to wait out the timeout: the hanging requests are cut off.
                let (healthyDone, outcome) = try await Self.run(batch, within: .seconds(45)) { (monitor.progress?.delivered ?? 0) >= count }
                let received = healthy.requests.count
                #expect(healthyDone, "the healthy endpoint got \(received) of \(count) deliveries while the hanging one's first requests waited")
                let sent = hanging.requests.count
                #expect(sent == 2 * EndpointWindow.initial)
                let healthyRow = try #require(outcome.report.endpoints.first { $0.name == "healthy" })
                #expect(healthyRow.delivered == count)
                let totals = outcome.report.totals
                #expect(totals.delivered + totals.deferred + totals.failed == totals.deliveries)
            }
        }
    }

    @Test("an endpoint too slow to keep up does not hold back later files: the healthy one gets them all; the slow one's rest waits for the next run")
    func slowEndpointDoesNotHoldUpLaterFiles() async throws {
        let ws = try TestWorkspace()
        let files = 4
        let perFile = 300
        for number in 1...files {
            try ws.drop("f\(number).ndjson", DurabilityTests.events(perFile, prefix: "s\(number)"))
        }
        try await LoopbackReceiver.run(handler: { _ in
            try? await Task.sleep(for: .seconds(5))
            return .ok
        }) { slow in
            try await LoopbackReceiver.run(handler: { _ in .ok }) { healthy in
                let config = try Self.config(
                    ws, testEndpoint(name: "healthy", port: healthy.port), testEndpoint(name: "slow", port: slow.port, more: "concurrency: 2")
                )
                let batch = BatchRun(config: config, logger: .quiet)
                // The slow endpoint takes 5 s per request, 2 at a time: its share of the window
                // fills during the second file. Before, the reader then waited for it, file after file.
                let (healthyDone, outcome) = try await Self.run(batch, within: .seconds(30)) { healthy.requests.count >= files * perFile }
                let received = healthy.requests.count
                #expect(healthyDone, "the healthy endpoint got \(received) of \(files * perFile) deliveries")
                let ids = Set(healthy.requests.compactMap { $0.header("webhook-id") })
                #expect(ids.count == files * perFile)
                #expect(outcome.exitStatus == .tempFail)
            }
        }
    }

    @Test("an endpoint that stalls for a while, then answers: its later deliveries come in a second pass, each counted and delivered once")
    func countsAcrossPasses() async throws {
        let ws = try TestWorkspace()
        let count = 1_500
        try ws.drop("a.ndjson", DurabilityTests.events(count, prefix: "f"))
        let answered = Mutex(0)
        try await LoopbackReceiver.run(handler: { _ in .ok }) { fast in
            try await LoopbackReceiver.run(handler: { _ in
                // The first answer takes longer than the reader's patience: the endpoint falls behind.
                let first = answered.withLock { count in
                    count += 1
                    return count == 1
                }
                if first { try? await Task.sleep(for: .milliseconds(2_500)) }
                return .ok
            }) { slow in
                let config = try Self.config(
                    ws, testEndpoint(name: "fast", port: fast.port), testEndpoint(name: "slow", port: slow.port, more: "concurrency: 1")
                )
                let handler = InMemoryLogHandler()
                var logger = Logger(label: "hookspool.test", factory: { _ in handler })
                logger.logLevel = .debug
                let outcome = await BatchRun(config: config, logger: logger).run()
                let passes = handler.entries.filter { $0.message.description == "another pass for endpoints that fell behind" }
                #expect(passes.count == 1)
                let totals = outcome.report.totals
                #expect(totals.deliveries == 2 * count)
                #expect(totals.delivered == 2 * count)
                #expect(fast.requests.count == count)
                let ids = Set(slow.requests.compactMap { $0.header("webhook-id") })
                #expect(slow.requests.count == count)
                #expect(ids.count == count)
                #expect(outcome.exitStatus == .ok)
            }
        }
    }
}
