/// The lanes that receive an event type, in config order: the router's answer, as lanes.
struct LaneRouter {
    private let lanes: [EndpointLane]
    private let index: RouteIndex
    private var cache: [String: [EndpointLane]] = [:]

    /// `lanes`: one per configured endpoint, in config order.
    init(lanes: [EndpointLane]) {
        self.lanes = lanes
        self.index = RouteIndex(endpoints: lanes.map(\.endpoint))
    }

    mutating func route(_ type: String) -> [EndpointLane] {
        if let cached = cache[type] { return cached }
        let routed = index.receivers(of: type).map { lanes[$0] }
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
