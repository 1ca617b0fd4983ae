// Routing stage. Takes an event's type and the configured endpoints;
// gives the endpoints that subscribe to it, in config order.

/// Decides which endpoints receive an event type: enabled endpoints whose globs match.
public struct Router: Sendable {
    private let endpoints: [Endpoint]
    private var cache: [String: [Int]] = [:]
    /// Distinct types remembered; beyond this the router still answers, it just stops caching.
    static let cacheLimit = 10_000

    public init(endpoints: [Endpoint]) {
        self.endpoints = endpoints
    }

    /// Indices (into the config's endpoints) of the endpoints that receive `type`, in config order.
    public mutating func route(_ type: String) -> [Int] {
        if let cached = cache[type] { return cached }
        let matches = endpoints.indices.filter { Self.receives(endpoints[$0], type) }
        if cache.count < Self.cacheLimit { cache[type] = matches }
        return matches
    }

    /// Whether `endpoint` receives events of `type`: it is enabled and one of its globs matches.
    static func receives(_ endpoint: Endpoint, _ type: String) -> Bool {
        endpoint.enabled && endpoint.subscribes(to: type)
    }
}
