import Foundation
import Logging
import NIOCore
@testable import HookSpool

/// The endpoint `testEndpoint` describes, with `more` of its keys, as config load makes it.
func scriptedEndpoint(name: String = "hook", maxAttempts: Int = 3, backoff: String = "{initial: 1s, max: 30s}", more: String = "") throws -> Endpoint {
    let yaml = testConfig(endpoints: testEndpoint(name: name, port: 9, more: more), maxAttempts: maxAttempts, backoff: backoff)
    let config = try Config.parse(yaml: yaml, file: "config.yaml", baseDirectory: NSTemporaryDirectory(), environment: [:])
    guard let endpoint = config.endpoints.first else { throw TestFailure("no endpoint in \(yaml)") }
    return endpoint
}

/// A lane to `endpoint` through `transport`, on `clock`, as a run makes it.
func scriptedLane(_ endpoint: Endpoint, transport: any Transport, clock: any RunClock, share: Int = 1024) -> EndpointLane {
    EndpointLane(endpoint: endpoint, resolution: .direct, transport: transport, share: AsyncSemaphore(permits: share, clock: clock), tally: EndpointTally(), clock: clock)
}

/// A dispatcher on `clock` with a fresh ledger; `retryFor` zero fails what it cannot deliver.
func scriptedDispatcher(
    clock: any RunClock, retryFor: Duration = .zero, concurrency: Int = 64, recordHold: @escaping @Sendable (EndpointLane, Double) -> Void = { _, _ in }
) -> Dispatcher {
    Dispatcher(
        concurrency: concurrency, retryFor: retryFor, control: RunControl(), clock: clock, logger: .quiet,
        recordHold: recordHold
    )
}

/// An event of type `t` on line `line`.
func scriptedEvent(line: Int = 1, id: String = "evt_1") -> Event {
    Event(line: line, id: id, type: "t", body: .init(string: #"{"id":"\#(id)","type":"t"}"#))
}
