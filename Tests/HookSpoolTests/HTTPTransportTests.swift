import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import HookSpool

/// hookspool's own keep-alive HTTP/1.1 client (`HTTPTransport`, `HTTP1Connection`) against a
/// server whose every answer is scripted, odd ones included.
@Suite("HTTP transport")
struct HTTPTransportTests {
    /// A transport with one endpoint, `http://127.0.0.1:<port>/hook`, and a way to post a fresh event to it.
    struct Client: Sendable {
        let transport: HTTPTransport
        let endpoint: Endpoint

        init(port: Int) throws {
            let ws = try TestWorkspace()
            let config = try ws.config(testConfig(endpoints: testEndpoint(port: port)))
            let endpoint = try #require(config.endpoints.first)
            self.endpoint = endpoint
            transport = HTTPTransport(endpoint: endpoint, pinned: nil, tls: TLSContexts())
        }

        func post(
            timeout: Duration = .seconds(10), attempt: Int = 1, keepSuccessBody: Bool = false, extra: [(String, String)] = []
        ) async -> Attempt {
            let event = Ping.makeEvent(now: Date())
            var headers = RequestHeaders.signature(for: event, signing: endpoint.signing, timestamp: Int64(Date().timeIntervalSince1970)) ?? []
            headers += extra.map { (name: $0.0, value: $0.1) }
            return await transport.post(
                headers: headers, body: event.body, timeout: timeout, attempt: attempt, keepSuccessBody: keepSuccessBody
            )
        }

        func shutdown() async {
            await transport.shutdown()
        }
    }

    /// Runs `body` with a scripted server and a client of it; shuts both down afterwards.
    static func withServer(
        _ script: @escaping @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Action,
        _ body: (ScriptedHTTPServer, Client) async throws -> Void
    ) async throws {
        try await ScriptedHTTPServer.run(script) { server in
            let client = try Client(port: server.port)
            do {
                try await body(server, client)
            } catch {
                await client.shutdown()
                throw error
            }
            await client.shutdown()
        }
    }

    /// Posts twice, one after the other: each answer's status (nil for a failure), and the results for messages.
    static func postTwice(_ client: Client) async -> (statuses: [Int?], results: [Attempt.Result]) {
        let first = await client.post()
        let second = await client.post()
        return ([status(first), status(second)], [first.result, second.result])
    }

    /// `count` posts, one after the other, with attempt numbers from 1: each answered 200, its number kept.
    static func expectPostsAnswered200(_ client: Client, count: Int) async {
        for number in 1...count {
            let attempt = await client.post(attempt: number)
            let answered = status(attempt)
            #expect(answered == 200, "\(attempt.result)")
            #expect(attempt.number == number)
        }
    }

    /// A post that gets no whole answer in time: a timeout, ending at its deadline (not much later).
    static func expectTimeout(_ client: Client, after timeout: Duration) async {
        let attempt = await client.post(timeout: timeout)
        let ended = failure(attempt)
        #expect(ended == .timeout, "\(attempt.result)")
        let latency = attempt.latency
        #expect(latency >= timeout, "\(latency)")
        #expect(latency < .seconds(5), "\(latency)")
    }

    /// Two posts, both answered 200, each the first request on a connection of its own.
    static func expectTwoPostsOnTwoConnections(_ server: ScriptedHTTPServer, _ client: Client) async {
        let (statuses, results) = await postTwice(client)
        #expect(statuses == [200, 200], "\(results)")
        let connections = server.connections
        #expect(connections == 2)
        let indices = server.requests.map(\.index)
        #expect(indices == [0, 0])
    }

    static func status(_ attempt: Attempt) -> Int? {
        if case .response(let status) = attempt.result { return status }
        return nil
    }

    static func failure(_ attempt: Attempt) -> AttemptFailure? {
        if case .failure(let failure) = attempt.result { return failure }
        return nil
    }

    @Test("sequential posts to a keep-alive endpoint share one connection")
    func keepAlive() async throws {
        try await Self.withServer({ _ in .answer(status: 200, reason: "OK", body: "ok") }) { server, client in
            await Self.expectPostsAnswered200(client, count: 3)
            let connections = server.connections
            #expect(connections == 1)
            let requests = server.requests
            let indices = requests.map(\.index)
            let onFirst = requests.allSatisfy { $0.connection == 1 }
            #expect(indices == [0, 1, 2])
            #expect(onFirst)
        }
    }

    @Test("the request on the wire: a POST of the target, the headers in order, then the body")
    func requestBytes() async throws {
        try await Self.withServer({ _ in .answer(status: 200, reason: "OK", body: "ok") }) { server, client in
            let attempt = await client.post(extra: [("X-Tab", "a\tb"), ("X-Utf8", "Zoë 🚀")])
            #expect(Self.status(attempt) == 200, "\(attempt.result)")
            await Self.expectPostsAnswered200(client, count: 1)
            let requests = server.requests
            try #require(requests.count == 2)
            let head = requests[0].head
            #expect(head.method == .POST && head.uri == "/hook" && head.version == .http1_1)
            let names = head.headers.map(\.name)
            #expect(names.prefix(4) == ["Host", "Content-Type", "User-Agent", "Content-Length"])
            #expect(names.suffix(2) == ["X-Tab", "X-Utf8"])
            #expect(head.headers["X-Tab"] == ["a\tb"] && head.headers["X-Utf8"] == ["Zoë 🚀"])
            let sent = try JSONSerialization.jsonObject(with: Data(requests[0].body.readableBytesView)) as? [String: Any]
            #expect((sent?["id"] as? String)?.hasPrefix("evt_test_") == true && sent?["type"] as? String == "webhook.test")
            // Both on one connection: nothing was left over after the first request's body.
            #expect(requests.map(\.connection) == [1, 1] && requests.map(\.index) == [0, 1])
        }
    }

    /// What NIO's validator refused before the encoding was hookspool's: a line break would start a
    /// header of the sender's choosing, or end the head early.
    @Test(
        "a header that would break the message is never sent, and no connection is opened for it",
        arguments: [
            ("X-Bad", "a\r\nX-Injected: 1"), ("X-Bad", "a\nb"), ("X-Bad", "a\rb"), ("X-Bad", "a\u{0}b"), ("X-Bad", "a\u{7F}b"),
            ("Bad Name", "x"), ("X-Bad:", "x"), ("", "x"),
        ]
    )
    func headerRefused(name: String, value: String) async throws {
        try await Self.withServer({ _ in .answer(status: 200, reason: "OK", body: "ok") }) { server, client in
            let attempt = await client.post(extra: [(name, value)])
            #expect(Self.failure(attempt) == .networkError, "\(attempt.result)")
            await Self.expectPostsAnswered200(client, count: 1)
            let requests = server.requests
            #expect(requests.count == 1 && requests.allSatisfy { $0.head.headers["X-Injected"].isEmpty && $0.head.headers["X-Bad"].isEmpty })
            let connections = server.connections
            #expect(connections == 1)
        }
    }

    /// One connection held by a post the server never answers, one parked: with two deliveries
    /// pending (the held one among them) the parked connection is kept, with one it is closed.
    @Test("closeSpare keeps the idle connections the pending deliveries not in an exchange could take", .timeLimit(.minutes(1)))
    func closeSpare() async throws {
        try await Self.withServer({ request in
            request.head.headers["X-Hold"].isEmpty ? .answer(status: 200, reason: "OK", body: "ok") : .silence
        }) { server, client in
            let held = Task { await client.post(timeout: .seconds(30), extra: [("X-Hold", "1")]) }
            try await server.waitForRequests(1)
            await Self.expectPostsAnswered200(client, count: 1)
            #expect(server.connections == 2)
            client.transport.closeSpare(pending: 2)
            client.transport.closeSpare(pending: 1)
            held.cancel()
            _ = await held.value
            // The parked connection was closed (and the held one with its post): the next post opens a third.
            await Self.expectPostsAnswered200(client, count: 1)
            #expect(server.connections == 3)
        }
    }

    /// `serverCloses` false: the server says `Connection: close` but leaves the connection open, so
    /// only the client's own close keeps the next request off it.
    @Test("after an answer with Connection: close the next post opens a new connection", arguments: [true, false])
    func connectionClose(serverCloses: Bool) async throws {
        var action = ScriptedHTTPServer.Action.answer(status: 200, reason: "OK", body: "ok", connectionClose: true)
        action.close = serverCloses
        try await Self.withServer({ [action] _ in action }) { server, client in
            await Self.expectTwoPostsOnTwoConnections(server, client)
        }
    }

    @Test("bytes nobody asked for after an answer retire the connection")
    func unexpectedBytes() async throws {
        // A complete answer followed by a second, unasked-for one in the same write.
        let extra = ScriptedHTTPServer.Action.head(status: 500, reason: "Stray", headers: [("Content-Length", "0")])
        var action = ScriptedHTTPServer.Action.answer(status: 200, reason: "OK", body: "ok")
        action.bytes.writeString(extra)
        try await Self.withServer({ [action] _ in action }) { server, client in
            await Self.expectTwoPostsOnTwoConnections(server, client)
        }
    }

    @Test("a 100 Continue before the answer is skipped")
    func informational() async throws {
        var action = ScriptedHTTPServer.Action.raw("HTTP/1.1 100 Continue\r\n\r\n", close: false)
        var answer = ScriptedHTTPServer.Action.answer(status: 201, reason: "Created", body: "made").bytes
        action.bytes.writeBuffer(&answer)
        try await Self.withServer({ [action] _ in action }) { server, client in
            let (statuses, results) = await Self.postTwice(client)
            #expect(statuses == [201, 201], "\(results)")
            let connections = server.connections
            #expect(connections == 1)
        }
    }

    @Test("a kept-alive connection the endpoint closes unanswered is retried once on a new one, invisibly")
    func staleConnectionRetried() async throws {
        // Each connection carries one answer; the next request on it is closed without a word.
        let script: @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Action = { request in
            request.index == 0 ? .answer(status: 200, reason: "OK", body: "ok") : .closeWithoutAnswer
        }
        try await Self.withServer(script) { server, client in
            await Self.expectPostsAnswered200(client, count: 3)
            // Post 1 opens connection 1; posts 2 and 3 each find theirs closed and open one more.
            let connections = server.connections
            #expect(connections == 3)
            let requests = server.requests
            let seen = requests.map { "\($0.connection).\($0.index)" }
            #expect(seen == ["1.0", "1.1", "2.0", "2.1", "3.0"])
            // The retried request is the same request, body and all.
            let bodies = requests.map { String(buffer: $0.body) }
            let second = bodies.count == 5 ? bodies[1] : ""
            let retried = bodies.count == 5 ? bodies[2] : "-"
            #expect(second == retried)
        }
    }

    @Test("a fresh connection closed unanswered is a failure, not retried")
    func freshConnectionClosed() async throws {
        try await Self.withServer({ _ in .closeWithoutAnswer }) { server, client in
            let attempt = await client.post()
            let failure = Self.failure(attempt)
            #expect(failure == .connectionClosed, "\(attempt.result)")
            let connections = server.connections
            #expect(connections == 1)
        }
    }

    @Test("a 500 with a 200 KiB chunked body: the status, a 1 KiB excerpt, and no wait for the timeout")
    func longErrorBody() async throws {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var body = ByteBuffer()
        for i in 0..<(200 << 10) { body.writeInteger(alphabet[i % alphabet.count]) }
        let expected = String(buffer: body.getSlice(at: 0, length: HTTPTransport.maxExcerpt) ?? ByteBuffer())
        let action = ScriptedHTTPServer.Action.chunked(status: 500, reason: "Internal Server Error", body: body)
        try await Self.withServer({ _ in action }) { _, client in
            let attempt = await client.post(timeout: .seconds(20))
            // From the start of the request to its answer, or its failure.
            let waited = attempt.latency
            let status = Self.status(attempt)
            #expect(status == 500, "\(attempt.result)")
            let excerpt = attempt.responseExcerpt ?? ""
            let excerptBytes = excerpt.utf8.count
            #expect(HTTPTransport.maxExcerpt == 1024)
            #expect(excerptBytes == 1024)
            #expect(excerpt == expected)
            #expect(waited < .seconds(5), "\(waited)")
        }
    }

    @Test("an answer whose head arrived stands when the connection closes mid-body", arguments: [200, 503])
    func cutShortByClose(status: Int) async throws {
        let head = ScriptedHTTPServer.Action.head(status: status, headers: [("Content-Length", "100")])
        let action = ScriptedHTTPServer.Action.raw(head + "0123456789", close: true)
        try await Self.withServer({ _ in action }) { _, client in
            let attempt = await client.post(timeout: .seconds(20))
            // From the start of the request to its answer, or its failure.
            let waited = attempt.latency
            let got = Self.status(attempt)
            #expect(got == status, "\(attempt.result)")
            #expect(waited < .seconds(5), "\(waited)")
        }
    }

    @Test("a 503 whose body stalls past the timeout is a timeout")
    func errorBodyStalls() async throws {
        let head = ScriptedHTTPServer.Action.head(status: 503, headers: [("Content-Length", "100")])
        let action = ScriptedHTTPServer.Action.raw(head + "0123456789", close: false)
        try await Self.withServer({ _ in action }) { _, client in
            await Self.expectTimeout(client, after: .seconds(1))
        }
    }

    /// A connection keeps one timer across its exchanges: a later exchange's deadline, longer or
    /// shorter than the one the timer was set for, is still the one that counts.
    @Test("on a kept-alive connection each exchange times out at its own deadline", arguments: [(5.0, 0.4), (0.5, 1.0)])
    func ownDeadline(first: Double, second: Double) async throws {
        try await Self.withServer({ $0.index == 0 ? .answer(status: 200, reason: "OK", body: "ok") : .silence }) { server, client in
            let answered = await client.post(timeout: .seconds(first))
            #expect(Self.status(answered) == 200, "\(answered.result)")
            let attempt = await client.post(timeout: .seconds(second))
            #expect(Self.failure(attempt) == .timeout, "\(attempt.result)")
            #expect(attempt.latency >= .seconds(second) && attempt.latency < .seconds(second + 1), "\(attempt.latency)")
            let connections = server.connections
            #expect(connections == 1)
        }
    }

    @Test("no answer within the timeout is a timeout")
    func noAnswer() async throws {
        try await Self.withServer({ _ in .silence }) { server, client in
            await Self.expectTimeout(client, after: .milliseconds(500))
            // The request went out (on a loaded machine the server may read it after the client gave up).
            try await server.waitForRequests(1)
        }
    }

    @Test("a 101 answer is taken as it is, and its connection is never used again")
    func switchingProtocols() async throws {
        try await Self.withServer({ request in
            request.connection == 1 ? .raw("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n", close: false) : .answer(status: 200, body: "ok")
        }) { server, client in
            let first = await client.post()
            let firstStatus = Self.status(first)
            #expect(firstStatus == 101, "\(first.result)")
            let second = await client.post(timeout: .seconds(3))
            let secondStatus = Self.status(second)
            #expect(secondStatus == 200, "\(second.result)")
            let connections = server.connections
            #expect(connections == 2)
        }
    }

    @Test("a refused connection is a connect error, at once")
    func refused() async throws {
        let refusing = try SilentListener.refusingPort()
        let client = try Client(port: refusing.port)
        let attempt = await client.post(timeout: .seconds(20))
        await client.shutdown()
        withExtendedLifetime(refusing) {}
        let failure = Self.failure(attempt)
        #expect(failure == .connectError, "\(attempt.result)")
        let latency = attempt.latency
        #expect(latency < .seconds(5), "\(latency)")
    }

    @Test("Retry-After on a 429 is parsed")
    func retryAfter() async throws {
        let action = ScriptedHTTPServer.Action.answer(status: 429, reason: "Too Many Requests", headers: [("Retry-After", "7")], body: "slow down")
        try await Self.withServer({ _ in action }) { _, client in
            let attempt = await client.post()
            let status = Self.status(attempt)
            #expect(status == 429, "\(attempt.result)")
            let retryAfter = attempt.retryAfter
            #expect(retryAfter == .seconds(7))
            let excerpt = attempt.responseExcerpt
            #expect(excerpt == "slow down")
        }
    }

    @Test("a 2xx body is kept only when asked for; a non-2xx body always")
    func successBody() async throws {
        let script: @Sendable (ScriptedHTTPServer.Request) -> ScriptedHTTPServer.Action = { request in
            request.index < 2 ? .answer(status: 200, reason: "OK", body: "hello") : .answer(status: 404, reason: "Not Found", body: "nope")
        }
        try await Self.withServer(script) { server, client in
            let plain = await client.post()
            let kept = await client.post(keepSuccessBody: true)
            let failed = await client.post()
            let plainStatus = Self.status(plain)
            let keptStatus = Self.status(kept)
            let failedStatus = Self.status(failed)
            #expect(plainStatus == 200, "\(plain.result)")
            #expect(keptStatus == 200, "\(kept.result)")
            #expect(failedStatus == 404, "\(failed.result)")
            let plainExcerpt = plain.responseExcerpt
            let keptExcerpt = kept.responseExcerpt
            let failedExcerpt = failed.responseExcerpt
            #expect(plainExcerpt == nil)
            #expect(keptExcerpt == "hello")
            #expect(failedExcerpt == "nope")
            // The drained body left the connection usable.
            let connections = server.connections
            #expect(connections == 1)
        }
    }

    @Test("cancelling the task of a post waiting for an answer ends it at once, as a failure")
    func cancelled() async throws {
        try await Self.withServer({ _ in .silence }) { server, client in
            let task = Task { await client.post(timeout: .seconds(30)) }
            defer { task.cancel() }
            try await server.waitForRequests(1)
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let attempt = await task.value
            let waited = start.duration(to: clock.now)
            let failure = Self.failure(attempt)
            #expect(failure != nil, "\(attempt.result)")
            #expect(waited < .seconds(5), "\(waited)")
            let latency = attempt.latency
            #expect(latency < .seconds(10), "\(latency)")
        }
    }
}
