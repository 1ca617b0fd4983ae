/// The lanes that receive an event type, in config order: the router's answer, as lanes.
struct LaneRouter {
    private let lanes: [EndpointLane]
    private var cache: [String: [EndpointLane]] = [:]

    init(lanes: [EndpointLane]) {
        self.lanes = lanes
    }

    mutating func route(_ type: String) -> [EndpointLane] {
        if let cached = cache[type] { return cached }
        let routed = lanes.filter { Router.receives($0.endpoint, type) }
        if cache.count < Router.cacheLimit { cache[type] = routed }
        return routed
    }
}

extension EndpointLane: Hashable {
    static func == (lhs: EndpointLane, rhs: EndpointLane) -> Bool { lhs === rhs }

    func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(self))
    }
}
