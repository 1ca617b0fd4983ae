import Foundation
import Logging

/// Makes a run's endpoint lanes: resolves the hosts (logging those that do not resolve or resolve
/// to refused addresses), reads the endpoints' health (disabled, Retry-After), and gives each
/// endpoint its transport, window, share and tally.
struct LaneSetup: Sendable {
    /// Makes an endpoint's transport, given the address its host was pinned to, if any.
    typealias MakeTransport = @Sendable (_ endpoint: Endpoint, _ pinned: String?) -> any Transport

    let context: RunContext
    let health: HealthStore
    let makeTransport: MakeTransport

    /// One lane per configured endpoint, in config order; `share` is each one's part of the read-ahead window.
    func lanes(share: Int) async -> [EndpointLane] {
        let endpoints = context.config.endpoints
        let (resolutions, pins) = await HostResolver.resolve(endpoints)
        for (endpoint, resolution) in zip(endpoints, resolutions) { log(resolution, of: endpoint) }
        let known = knownHealth()
        // A healthy endpoint's resumed window, before its first answer: an equal part of the slots.
        let startLimit = max(EndpointWindow.initial, context.config.delivery.concurrency / max(1, endpoints.count))
        return zip(endpoints, resolutions).enumerated().map { index, pair in
            let (endpoint, resolution) = pair
            let lane = EndpointLane(
                endpoint: endpoint, resolution: resolution, transport: makeTransport(endpoint, pins[endpoint.url.host]),
                share: AsyncSemaphore(permits: share, clock: context.clock), tally: context.ledger.tallies[index], clock: context.clock,
                from: Self.earlier(known[endpoint.name]), fifo: fifoLane(for: endpoint), startLimit: startLimit
            )
            if let reason = lane.disabled.reason {
                lane.tally.disabled(because: reason)
                context.logger.error(
                    "ENDPOINT DISABLED: its deliveries wait, unattempted, until `hookspool endpoints enable \(endpoint.name)`",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)", "reason": "\(reason)"]
                )
            }
            return lane
        }
    }

    /// The turns of an endpoint with `ordering: fifo`; none in a dry run, which sends nothing.
    private func fifoLane(for endpoint: Endpoint) -> FifoLane? {
        guard endpoint.ordering == .fifo, !context.dryRun else { return nil }
        let context = context
        return FifoLane(queue: FifoQueue(spool: context.spool, endpoint: endpoint.name), logger: context.logger) { message, error in
            context.ioError(message, log: "cannot keep a fifo endpoint's order; its deliveries wait", error: error)
        }
    }

    /// What an endpoint's health says for this run.
    private static func earlier(_ health: EndpointHealth?) -> EndpointLane.Earlier {
        EndpointLane.Earlier(
            disabledReason: health?.disabled?.reason, retryAfterUntil: health?.retryAfterUntil.flatMap(EndpointHealth.parse)?.timeIntervalSince1970 ?? 0,
            window: health?.failingSince == nil ? health?.window : nil
        )
    }

    /// The endpoints' health from earlier runs; none (every endpoint enabled) when it cannot be read.
    private func knownHealth() -> [String: EndpointHealth] {
        do {
            return try health.load()
        } catch {
            context.ioError(
                "cannot read the endpoints' health: \(error)", log: "cannot read the endpoints' health; treating every endpoint as enabled", error: error
            )
            return [:]
        }
    }

    private func log(_ resolution: HostResolver.Resolution, of endpoint: Endpoint) {
        switch resolution {
        case .unresolved(let reason):
            context.logger.error(
                "endpoint host does not resolve; its deliveries wait for a later run",
                metadata: ["hookspool.endpoint": "\(endpoint.name)", "dns.error": "\(reason)"]
            )
        case .refused(let address, let category):
            context.logger.error(
                "endpoint host resolves to a refused address; its deliveries fail (set allow_private: true if intended)",
                metadata: ["hookspool.endpoint": "\(endpoint.name)", "net.address": "\(address)", "net.category": "\(category)"]
            )
        case .direct, .pinned:
            break
        }
    }
}
