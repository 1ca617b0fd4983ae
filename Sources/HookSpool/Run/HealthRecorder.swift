import Foundation
import Logging

/// Folds a run's outcomes into each endpoint's health across runs: the `Retry-After` waits kept
/// for the runs that follow, the failing streak, and disabling after `delivery.disable_after`.
struct HealthRecorder: Sendable {
    let context: RunContext
    let store: HealthStore

    /// Keeps `lane`'s `Retry-After` wait (until `untilUnix`) for the runs that start while it lasts.
    /// Once per endpoint and wait, off the hot path: one locked update of endpoints.json.
    func recordHold(_ lane: EndpointLane, untilUnix until: Double) {
        do {
            try store.update { health in
                health[lane.name, default: EndpointHealth()].holdRetryAfter(untilUnix: until)
            }
        } catch {
            context.logger.warning(
                "cannot record an endpoint's Retry-After for later runs", metadata: ["hookspool.endpoint": "\(lane.name)", "error": "\(error)"]
            )
        }
    }

    /// Records the run's end for every lane.
    func recordRun(_ lanes: [EndpointLane]) {
        let now = Date(timeIntervalSince1970: context.clock.unixTime)
        do {
            let updated = try store.update { health in
                for lane in lanes {
                    // The later of what is stored (another run's, maybe) and this run's; a wait that is over goes.
                    let name = lane.name
                    let stored = health[name]?.retryAfterUntil.flatMap(EndpointHealth.parse)?.timeIntervalSince1970 ?? 0
                    let until = max(stored, lane.hold.untilUnix)
                    let text = until > now.timeIntervalSince1970 ? RFC3339.format(secondsSince1970: Int(until.rounded(.up))) : nil
                    if health[name]?.retryAfterUntil != text {
                        health[name, default: EndpointHealth()].retryAfterUntil = text
                    }
                }
                for lane in lanes {
                    let summary = lane.tally.figures
                    // A run whose every attempt failed at the proxy, or was not sent for want of a
                    // valid secret, says nothing about the endpoint: neither must disable it.
                    let notTheEndpoint: Set<String> = [AttemptFailure.proxyError.rawValue, AttemptFailure.noValidSecret.rawValue]
                    let onlyProxyFailed = summary.statusCodes.keys.allSatisfy(notTheEndpoint.contains)
                    let tally = EndpointHealth.RunTally(
                        delivered: summary.delivered,
                        unsuccessful: summary.attempts > 0 && !onlyProxyFailed ? summary.failed + summary.deferred : 0,
                        gone: summary.statusCodes["410"] != nil
                    )
                    guard tally.delivered > 0 || tally.unsuccessful > 0 || tally.gone else { continue }
                    let wasDisabled = health[lane.name]?.disabled != nil
                    health[lane.name, default: EndpointHealth()].record(tally, runStarted: now, now: now, disableAfter: context.config.delivery.disableAfter)
                    // Where the next run's window goes at its first answer: kept only while the endpoint is
                    // healthy; a run too short to grow its window past the start leaves the stored one.
                    if health[lane.name]?.failingSince != nil || tally.delivered == 0 {
                        health[lane.name]?.window = nil
                    } else if lane.window.size > EndpointWindow.initial {
                        health[lane.name]?.window = lane.window.size
                    }
                    if !wasDisabled, let disabled = health[lane.name]?.disabled {
                        context.logger.error(
                            "ENDPOINT DISABLED: its deliveries wait, unattempted, until `hookspool endpoints enable \(lane.name)`",
                            metadata: ["hookspool.endpoint": "\(lane.name)", "reason": "\(disabled.reason)"]
                        )
                    }
                }
            }
            for lane in lanes {
                if let reason = updated[lane.name]?.disabled?.reason { lane.tally.disabled(because: reason) }
            }
        } catch {
            context.ioError("cannot record the endpoints' health: \(error)", log: "cannot record the endpoints' health", error: error)
        }
    }
}
