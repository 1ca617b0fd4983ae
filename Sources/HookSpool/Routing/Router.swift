/// Decides which endpoints receive an event type: enabled endpoints whose globs match.
public struct Router: Sendable {
    private let endpoints: [Endpoint]
    private var cache: [String: [Int]] = [:]
    /// Distinct types remembered; beyond this the router still answers, it just stops caching.
    private static let cacheLimit = 10_000

    public init(endpoints: [Endpoint]) {
        self.endpoints = endpoints
    }

    /// Indices (into the config's endpoints) of the endpoints that receive `type`, in config order.
    public mutating func route(_ type: String) -> [Int] {
        if let cached = cache[type] { return cached }
        let matches = endpoints.indices.filter { endpoints[$0].enabled && endpoints[$0].subscribes(to: type) }
        if cache.count < Self.cacheLimit { cache[type] = matches }
        return matches
    }
}
