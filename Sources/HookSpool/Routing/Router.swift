// Routing stage. Takes an event's type and the configured endpoints;
// gives the endpoints that subscribe to it, in config order.

/// Decides which endpoints receive an event type: enabled endpoints whose globs match.
public struct Router: Sendable {
    private let index: RouteIndex
    private var cache: [String: [Int]] = [:]
    /// Distinct types remembered; beyond this the router still answers, it just stops caching.
    static let cacheLimit = 10_000

    public init(endpoints: [Endpoint]) {
        self.index = RouteIndex(endpoints: endpoints)
    }

    /// Indices (into the config's endpoints) of the endpoints that receive `type`, in config order.
    public mutating func route(_ type: String) -> [Int] {
        if let cached = cache[type] { return cached }
        let matches = index.receivers(of: type)
        if cache.count < Self.cacheLimit { cache[type] = matches }
        return matches
    }
}

/// The enabled endpoints by the exact types they name, and those with a glob, so a new type costs
/// one lookup plus one match per globbing endpoint, not one per endpoint.
struct RouteIndex: Sendable {
    private let endpoints: [Endpoint]
    /// Indices of the enabled endpoints naming each type exactly, in config order.
    private let byType: [String: [Int]]
    /// Indices of the enabled endpoints with at least one `*` or `?` pattern, in config order.
    private let globbing: [Int]

    init(endpoints: [Endpoint]) {
        var byType: [String: [Int]] = [:]
        var globbing: [Int] = []
        for (index, endpoint) in endpoints.enumerated() where endpoint.enabled {
            var named: Set<String> = []
            for pattern in endpoint.events {
                if pattern.isLiteral {
                    if named.insert(pattern.pattern).inserted { byType[pattern.pattern, default: []].append(index) }
                } else if globbing.last != index {
                    globbing.append(index)
                }
            }
        }
        self.endpoints = endpoints
        self.byType = byType
        self.globbing = globbing
    }

    /// Indices of the endpoints that receive `type`, in config order.
    func receivers(of type: String) -> [Int] {
        let named = byType[type] ?? []
        let matched = globbing.filter { endpoints[$0].subscribes(to: type) }
        if matched.isEmpty { return named }
        if named.isEmpty { return matched }
        return Set(named).union(matched).sorted()
    }
}
