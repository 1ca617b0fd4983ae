import Foundation
import Testing
@testable import HookSpool

@Suite("Router")
struct RouterTests {
    static func endpoints() throws -> [Endpoint] {
        let yaml = testConfig(
            endpoints: [
                testEndpoint(name: "orders", port: 9, events: #"["order.*"]"#),
                testEndpoint(name: "all", port: 9, events: #"["*"]"#),
                testEndpoint(name: "off", port: 9, events: #"["*"]"#, more: "enabled: false"),
            ].joined(separator: "\n")
        )
        return try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: NSTemporaryDirectory(), environment: [:]).endpoints
    }

    @Test("an event goes to the enabled endpoints whose globs match, in config order")
    func routes() throws {
        var router = Router(endpoints: try Self.endpoints())
        #expect(router.route("order.created") == [0, 1])
        #expect(router.route("user.created") == [1])
        #expect(router.route("order.created") == [0, 1])
    }

    @Test("exact types and globs together: each endpoint once, in config order, disabled ones never")
    func exactAndGlobs() throws {
        let yaml = testConfig(
            endpoints: [
                testEndpoint(name: "both", port: 9, events: #"["order.created", "order.*"]"#),
                testEndpoint(name: "users", port: 9, events: #"["user.created"]"#),
                testEndpoint(name: "off", port: 9, events: #"["order.created"]"#, more: "enabled: false"),
                testEndpoint(name: "all", port: 9, events: #"["*"]"#),
                testEndpoint(name: "twice", port: 9, events: #"["user.created", "user.created"]"#),
                testEndpoint(name: "one", port: 9, events: #"["user.?reated"]"#),
            ].joined(separator: "\n")
        )
        let endpoints = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: NSTemporaryDirectory(), environment: [:]).endpoints
        var router = Router(endpoints: endpoints)
        #expect(router.route("order.created") == [0, 3])
        #expect(router.route("order.paid") == [0, 3])
        #expect(router.route("user.created") == [1, 3, 4, 5])
        #expect(router.route("user.deleted") == [3])
    }

    @Test("the index answers as matching every endpoint's patterns would, for any mix of patterns", arguments: [1, 2, 3, 4] as [UInt64])
    func indexAgreesWithMatching(seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        let pieces = ["a", "b", "a.b", "*", "?", ".", "b*", "*.a"]
        func word(_ count: Int) -> String { (0..<count).map { _ in pieces.randomElement(using: &generator) ?? "a" }.joined() }
        for _ in 0..<5 {
            var endpoints: [String] = []
            for n in 0..<12 {
                let events = (0..<Int.random(in: 1...3, using: &generator)).map { _ in "\"\(word(Int.random(in: 1...3, using: &generator)))\"" }
                endpoints.append(testEndpoint(name: "e\(n)", port: 9, events: "[\(events.joined(separator: ", "))]", more: n % 5 == 4 ? "enabled: false" : ""))
            }
            let yaml = testConfig(endpoints: endpoints.joined(separator: "\n"))
            let parsed = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: NSTemporaryDirectory(), environment: [:]).endpoints
            var router = Router(endpoints: parsed)
            for _ in 0..<50 {
                let type = word(Int.random(in: 1...4, using: &generator)).replacingOccurrences(of: "*", with: "x").replacingOccurrences(of: "?", with: "y")
                let expected = parsed.indices.filter { parsed[$0].enabled && parsed[$0].subscribes(to: type) }
                #expect(router.route(type) == expected, "type \(type)")
            }
        }
    }

    @Test("lanes are routed the same way, as lanes")
    func lanes() throws {
        let clock = TestClock()
        let lanes = try Self.endpoints().map { scriptedLane($0, transport: ScriptedTransport(clock: clock), clock: clock) }
        var router = LaneRouter(lanes: lanes)
        #expect(router.route("order.paid").map(\.name) == ["orders", "all"])
        #expect(router.route("user.created").map(\.name) == ["all"])
        #expect(router.route("user.created").first === lanes[1])
    }
}
