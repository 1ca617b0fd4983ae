import Synchronization

/// One endpoint's figures in a run: attempts, status codes, latencies and outcomes.
final class EndpointTally: Sendable {
    private struct State {
        var summary: RunReport.EndpointSummary
        var latency = LatencyHistogram()
    }

    private let state: Mutex<State>

    init(endpoint: Endpoint) {
        state = Mutex(State(summary: RunReport.EndpointSummary(name: endpoint.name, url: endpoint.url.redacted, latencyMs: RunReport.Latency())))
    }

    func attempt(_ attempt: Attempt) {
        state.withLock { state in
            state.summary.attempts += 1
            state.summary.statusCodes[attempt.statusKey, default: 0] += 1
            state.latency.record(attempt.latency)
        }
    }

    func outcome(_ outcome: DeliveryOutcome) {
        state.withLock { state in
            switch outcome {
            case .delivered: state.summary.delivered += 1
            case .failed: state.summary.failed += 1
            case .deferred, .interrupted: state.summary.deferred += 1
            }
        }
    }

    /// Marks the endpoint disabled in the report.
    func disabled(because reason: String) {
        state.withLock { $0.summary.disabled = reason }
    }

    /// The figures so far (latency percentiles filled in).
    var summary: RunReport.EndpointSummary {
        state.withLock { state in
            var summary = state.summary
            summary.latencyMs = RunReport.Latency(
                p50: state.latency.percentile(0.50),
                p90: state.latency.percentile(0.90),
                p99: state.latency.percentile(0.99),
                max: state.latency.maxMilliseconds
            )
            return summary
        }
    }

    /// The attempt latencies so far, for the metrics' histogram.
    var latency: LatencyHistogram { state.withLock { $0.latency } }
}
