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
