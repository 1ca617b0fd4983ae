import Testing
@testable import HookSpool

@Suite("Endpoint window (slow start)")
struct EndpointWindowTests {
    /// `count` requests through `window`, one after the other, each ending as `answered` says.
    static func requests(_ count: Int, on window: EndpointWindow, answered: Bool?) async {
        for _ in 0..<count {
            await window.acquire()
            window.release(answered: answered)
        }
    }

    @Test("starts at five (or the limit, if smaller), grows by one per answer up to the limit, halves on a failure, never below one")
    func sizes() async {
        #expect(EndpointWindow(limit: 3).size == 3)
        let window = EndpointWindow(limit: 8)
        #expect(window.size == 5)
        await Self.requests(5, on: window, answered: true)
        #expect(window.size == 8)
        await Self.requests(1, on: window, answered: false)
        #expect(window.size == 4)
        await Self.requests(1, on: window, answered: nil)
        #expect(window.size == 4)
        await Self.requests(4, on: window, answered: false)
        #expect(window.size == 1)
    }

    @Test("a window resumed from the last run starts there (up to its start limit) and has it all at the first answer, never past the limit; a failure first forgets it")
    func resumed() async {
        #expect(EndpointWindow(limit: 64, resume: 48).size == 48)
        let window = EndpointWindow(limit: 64, resume: 48, startLimit: 16)
        #expect(window.size == 16, "an equal part of the run's slots before the first answer")
        #expect(EndpointWindow(limit: 64, resume: 48, startLimit: 2).size == 5, "never below a cold start")
        #expect(EndpointWindow(limit: 64, startLimit: 16).size == 5, "no resume: a cold start")
        await Self.requests(1, on: window, answered: true)
        #expect(window.size == 48)
        await Self.requests(1, on: window, answered: true)
        #expect(window.size == 49, "then one more per answer, as always")

        let capped = EndpointWindow(limit: 16, resume: 48)
        #expect(capped.size == 16)
        await Self.requests(1, on: capped, answered: true)
        #expect(capped.size == 16)

        let failed = EndpointWindow(limit: 64, resume: 48)
        await Self.requests(1, on: failed, answered: false)
        #expect(failed.size == 2, "half a cold start's window, not half the resumed one")
        await Self.requests(1, on: failed, answered: true)
        #expect(failed.size == 3, "a failure before any answer drops the resume")
    }

    @Test("requests beyond the window wait, and enter in order as places come back")
    func waiters() async {
        let window = EndpointWindow(limit: 1)
        await window.acquire()
        let order = OrderLog()
        await withTaskGroup(of: Void.self) { group in
            for n in 1...3 {
                group.addTask {
                    await window.acquire()
                    order.append(n)
                    window.release(answered: true)
                }
                // Each is queued before the next is started.
                while window.waiting < n { await Task.yield() }
            }
            #expect(window.waiting == 3)
            window.release(answered: true)
        }
        #expect(order.values == [1, 2, 3])
        #expect(window.waiting == 0)
    }
}
