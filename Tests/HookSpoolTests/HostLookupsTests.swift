import Foundation
import HookSpoolReceiver
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
@testable import HookSpool

/// Endpoints connected to by name (`allow_private`) look their host up once per run, whatever
/// the number of endpoints on it and connections to them.
@Suite("Host lookups")
struct HostLookupsTests {
    /// Two endpoints on `localhost:PORT`, their transports sharing `names`.
    static func transports(port: Int, names: HostLookups) throws -> [(HTTPTransport, Endpoint)] {
        let ws = try TestWorkspace()
        let endpoints = ["a", "b"].map { name in
            """
              - name: \(name)
                url: http://localhost:\(port)/\(name)
                events: ["*"]
                secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
                allow_http: true
                allow_private: true
            """
        }
        let config = try ws.config(testConfig(endpoints: endpoints.joined(separator: "\n")))
        return config.endpoints.map { (HTTPTransport(endpoint: $0, pinned: nil, tls: TLSContexts(), names: names), $0) }
    }

    static func post(_ transport: HTTPTransport, _ endpoint: Endpoint) async -> Attempt {
        let event = Ping.makeEvent(now: Date())
        let headers = RequestHeaders.signature(for: event, signing: endpoint.signing, timestamp: Int64(Date().timeIntervalSince1970)) ?? []
        return await transport.post(headers: headers, body: event.body, timeout: .seconds(10), attempt: 1)
    }

    @Test("one lookup for two endpoints on one host and the eight connections they open at once")
    func once() async throws {
        let lookups = Mutex(0)
        let names = HostLookups { _ in
            lookups.withLock { $0 += 1 }
            return .success([IPAddress("127.0.0.1")!])
        }
        let gauge = InFlightGauge(holding: .milliseconds(50))
        try await LoopbackReceiver.run(handler: gauge.handle) { receiver in
            let pairs = try Self.transports(port: receiver.port, names: names)
            let statuses = await withTaskGroup(of: Attempt.Result.self) { group in
                for (transport, endpoint) in pairs {
                    for _ in 0..<4 { group.addTask { await Self.post(transport, endpoint).result } }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            for (transport, _) in pairs { await transport.shutdown() }
            #expect(statuses.count == 8 && statuses.allSatisfy { $0 == .response(status: 200) }, "\(statuses)")
            #expect(gauge.peak > 4, "the requests were in flight together, on connections of their own")
        }
        #expect(lookups.withLock { $0 } == 1)
    }

    @Test("a failed lookup is not kept: the next connection looks again")
    func failureNotKept() async throws {
        let lookups = Mutex(0)
        let names = HostLookups { _ in
            let count = lookups.withLock { count in
                count += 1
                return count
            }
            return count == 1 ? .failure(HostResolver.LookupError(reason: "temporary failure")) : .success([IPAddress("127.0.0.1")!])
        }
        try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            let (transport, endpoint) = try #require(try Self.transports(port: receiver.port, names: names).first)
            #expect(await Self.post(transport, endpoint).result == .failure(.dnsError))
            #expect(await Self.post(transport, endpoint).result == .response(status: 200))
            await transport.shutdown()
        }
        #expect(lookups.withLock { $0 } == 2)
    }
}
