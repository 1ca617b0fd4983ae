import Foundation
import Logging
import NIOCore
import NIOHTTP1
import WebhookSignature

/// Delivers events to endpoints within the global and per-endpoint limits, retrying with backoff.
///
/// A delivery holds a concurrency permit only while its request is in flight; a retry that waits
/// for its backoff holds none. When a run's attempts are used up on a retryable failure, the
/// delivery is deferred to a later run while `retry_for` has not run out since its first attempt.
final class Dispatcher: Sendable {
    /// One endpoint with its run-time state.
    struct Target: Sendable {
        var endpoint: Endpoint
        var resolution: HostResolver.Resolution
        /// The endpoint's requests in flight: its concurrency, reached by slow start.
        var window: EndpointWindow
        var retryPolicy: RetryPolicy
        var circuit = CircuitBreaker()
        /// Set when the endpoint is disabled (before or during the run): deliveries are deferred without an attempt.
        var disabled = DisableSwitch()
        /// Fires when the circuit opens or the endpoint is disabled mid-run: retries waiting for
        /// their backoff wake up and are deferred at once instead of holding the run open.
        var sidelined = Latch()
        /// Until when the endpoint asked not to be sent to (`Retry-After`), across its deliveries and runs.
        var hold = RetryAfterHold()
    }

    /// How one delivery ended in this run.
    enum Result: Sendable {
        case delivered
        case failed(RunReport.FailureRow)
        /// Left for a later run; `firstAttempt` (unix seconds) starts its `retry_for` window, and
        /// `notBefore` (unix seconds) is when the endpoint said it may be tried again, if it did.
        case deferred(RunReport.FailureRow, firstAttempt: Int64, notBefore: Int64?)
        /// The run is stopping; the delivery is still pending.
        case interrupted
    }

    let targets: [Target]
    private let global: AsyncSemaphore
    private let transport: HTTPTransport
    private let ledger: Ledger
    private let logger: Logger
    private let control: RunControl
    private let retryFor: Duration
    /// Keeps an endpoint's `Retry-After` wait (unix seconds) for the runs that start while it lasts.
    private let recordHold: @Sendable (_ endpoint: Int, _ untilUnix: Double) -> Void

    static let userAgent = "hookspool/\(HookSpoolVersion.current)"

    init(
        targets: [Target], concurrency: Int, retryFor: Duration, transport: HTTPTransport, ledger: Ledger, control: RunControl, logger: Logger,
        recordHold: @escaping @Sendable (_ endpoint: Int, _ untilUnix: Double) -> Void = { _, _ in }
    ) {
        self.recordHold = recordHold
        self.targets = targets
        self.global = AsyncSemaphore(permits: concurrency)
        self.retryFor = retryFor
        self.transport = transport
        self.ledger = ledger
        self.control = control
        self.logger = logger
    }

    /// Delivers `event` to endpoint `index` until it succeeds, fails for good, is deferred, or the run stops.
    ///
    /// - Parameter firstAttempt: when an earlier run first tried this delivery (unix seconds), if one did.
    func deliver(_ event: Event, to index: Int, file: String, firstAttempt: Int64?) async -> Result {
        let target = targets[index]
        let endpoint = target.endpoint
        let started = firstAttempt ?? Int64(Date().timeIntervalSince1970)
        switch target.resolution {
        case .unresolved:
            return deferOrFail(event, index, file, attempts: 0, status: nil, error: AttemptFailure.dnsError.rawValue, excerpt: nil, firstAttempt: started)
        case .refused:
            return .failed(row(event, index, file, attempts: 0, status: nil, error: AttemptFailure.addressNotAllowed.rawValue, excerpt: nil))
        case .direct, .pinned:
            break
        }

        var random = SystemRandomNumberGenerator()
        var number = 0
        while true {
            if control.isStopping || Task.isCancelled { return .interrupted }
            if target.disabled.reason != nil {
                return deferOrFail(event, index, file, attempts: number, status: nil, error: "endpoint_disabled", excerpt: nil, firstAttempt: started)
            }
            if target.circuit.isOpen {
                return deferOrFail(event, index, file, attempts: number, status: nil, error: "circuit_open", excerpt: nil, firstAttempt: started)
            }
            // The endpoint asked to wait (Retry-After): never send sooner; a wait longer than this
            // run waits between attempts leaves the delivery to a later run, due then.
            let wait = target.hold.remaining()
            if wait > 0 {
                if Duration.seconds(wait) > target.retryPolicy.backoff.max {
                    return deferOrFail(
                        event, index, file, attempts: number, status: nil, error: "retry_after", excerpt: nil, firstAttempt: started,
                        notBefore: target.hold.untilUnix
                    )
                }
                await control.sleep(for: .milliseconds(Int64((wait * 1000).rounded(.up))), unless: target.sidelined)
                if control.isStopping { return .interrupted }
                continue
            }
            number += 1
            await target.window.acquire()
            if control.isStopping || target.circuit.isOpen || target.disabled.reason != nil || target.hold.remaining() > 0 {
                // Checked before taking a global slot too: after a circuit opens, the deliveries
                // queued for the endpoint leave at once instead of each waiting behind healthy traffic.
                target.window.release(answered: nil)
                number -= 1
                continue
            }
            await global.acquire()
            if control.isStopping || target.circuit.isOpen || target.disabled.reason != nil || target.hold.remaining() > 0 {
                // Woke up to a stop, an open circuit, a disabled endpoint or a Retry-After that came
                // meanwhile: this attempt never starts (the top of the loop waits or defers).
                global.release()
                target.window.release(answered: nil)
                number -= 1
                continue
            }
            let attempt = await transport.post(
                headers: headers(for: event, endpoint: endpoint),
                body: event.body,
                timeout: endpoint.timeout,
                attempt: number,
                endpoint: index
            )
            if attempt.verdict == .retry, let retryAfter = attempt.retryAfter, retryAfter > .zero {
                // Before the slots go back: the deliveries waiting for them must see the hold.
                target.hold.extend(untilUnix: Date().timeIntervalSince1970 + retryAfter.seconds)
            }
            global.release()
            if case .response = attempt.result {
                target.window.release(answered: true)
            } else {
                target.window.release(answered: false)
            }
            if Task.isCancelled, attempt.verdict != .delivered {
                // Cut off by a forced stop: the outcome is unknown, so the delivery stays pending.
                // (A 2xx that made it back counts: the receiver has it.)
                return .interrupted
            }

            ledger.attempt(attempt, endpoint: index)
            if target.circuit.record(attempt) {
                target.sidelined.fire()
                logger.error(
                    "endpoint keeps failing to connect; not sending to it for the rest of this run",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)", "consecutive_failures": "\(target.circuit.threshold)"]
                )
            }
            logger.debug(
                "attempt",
                metadata: [
                    "hookspool.endpoint": "\(endpoint.name)", "hookspool.event_id": "\(event.id)", "hookspool.attempt": "\(number)",
                    "http.status": "\(attempt.statusKey)", "latency_ms": "\(attempt.latency.milliseconds)",
                ]
            )
            if case .response(410) = attempt.result, target.disabled.disable(because: "answered 410 Gone") {
                target.sidelined.fire()
                ledger.endpointDisabled(index, reason: "answered 410 Gone")
                logger.error(
                    "ENDPOINT DISABLED: it answered 410 Gone; its deliveries wait until `hookspool endpoints enable \(endpoint.name)`",
                    metadata: ["hookspool.endpoint": "\(endpoint.name)"]
                )
            }
            switch attempt.verdict {
            case .delivered:
                return .delivered
            case .permanent:
                return .failed(row(event, index, file, attempt: attempt))
            case .retry:
                // The hold (set above) keeps every delivery to the endpoint; the top of the loop waits it out or defers.
                let asked = target.hold.remaining()
                if Duration.seconds(asked) > target.retryPolicy.backoff.max, let until = target.hold.toRecord() {
                    // Longer than this run waits: runs that start meanwhile must hold too.
                    recordHold(index, until)
                }
                if number >= target.retryPolicy.maxAttempts || Duration.seconds(asked) > target.retryPolicy.backoff.max {
                    return deferOrFail(event, index, file, attempt: attempt, firstAttempt: started)
                }
                // The backoff always, Retry-After or not (a `Retry-After: 0` is no reason to hammer);
                // the top of the loop then waits out whatever remains of the endpoint's wait.
                await control.sleep(for: target.retryPolicy.delay(afterAttempt: number, retryAfter: nil, using: &random), unless: target.sidelined)
                if control.isStopping { return .interrupted }
            }
        }
    }

    /// The headers of one attempt, signed with a fresh timestamp.
    func headers(for event: Event, endpoint: Endpoint) -> HTTPHeaders {
        Self.headers(for: event, endpoint: endpoint)
    }

    /// The headers of one attempt, signed with a fresh timestamp (also what `hookspool ping` sends).
    static func headers(for event: Event, endpoint: Endpoint) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(10 + endpoint.headers.count)
        headers.add(name: "Host", value: endpoint.url.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(event.body.readableBytes))
        headers.add(name: "User-Agent", value: Self.userAgent)
        if let authorization = endpoint.url.basicAuthorization {
            headers.add(name: "Authorization", value: authorization)
        }
        for header in endpoint.headers {
            headers.add(name: header.name, value: header.value)
        }
        let timestamp = Int64(Date().timeIntervalSince1970)
        let signature = event.body.withUnsafeReadableBytes { body in
            endpoint.signer.headers(id: event.id, eventType: event.type, timestamp: timestamp, body: body)
        }
        for header in signature {
            headers.add(name: header.name, value: header.value)
        }
        return headers
    }

    private func deferOrFail(_ event: Event, _ index: Int, _ file: String, attempt: Attempt, firstAttempt: Int64) -> Result {
        let hold = targets[index].hold.untilUnix
        let notBefore = hold > Date().timeIntervalSince1970 ? hold : nil
        switch attempt.result {
        case .response(let status):
            return deferOrFail(
                event, index, file, attempts: attempt.number, status: status, error: Self.errorWord(status: status), excerpt: attempt.responseExcerpt,
                firstAttempt: firstAttempt, notBefore: notBefore
            )
        case .failure(let failure):
            return deferOrFail(
                event, index, file, attempts: attempt.number, status: nil, error: failure.rawValue, excerpt: nil, firstAttempt: firstAttempt, notBefore: notBefore
            )
        }
    }

    /// Deferred while `retry_for` has not run out since the first attempt (and, when the endpoint
    /// asked to wait until `notBefore`, has not run out by then); failed for good after.
    /// A disabled endpoint's deliveries always wait: `endpoints enable` is the way out, not time.
    private func deferOrFail(
        _ event: Event, _ index: Int, _ file: String, attempts: Int, status: Int?, error: String, excerpt: String?, firstAttempt: Int64,
        notBefore: Double? = nil
    ) -> Result {
        var failure = row(event, index, file, attempts: attempts, status: status, error: error, excerpt: excerpt)
        let due = notBefore.map { $0 < 9e18 ? Int64($0.rounded(.up)) : Int64.max }
        if error == "endpoint_disabled" {
            return .deferred(failure, firstAttempt: firstAttempt, notBefore: nil)
        }
        let now = Int64(Date().timeIntervalSince1970)
        let (end, overflow) = firstAttempt.addingReportingOverflow(retryFor.components.seconds)
        let windowEnd = overflow ? Int64.max : end
        if retryFor > .zero && now < windowEnd && (due ?? now) < windowEnd {
            return .deferred(failure, firstAttempt: firstAttempt, notBefore: due)
        }
        if retryFor > .zero && now < windowEnd {
            // Only the endpoint's wait ends past retry_for: say so, rather than "retries exhausted".
            failure.lastError = "retry_after_past_retry_for"
        }
        return .failed(failure)
    }

    private func row(_ event: Event, _ index: Int, _ file: String, attempt: Attempt) -> RunReport.FailureRow {
        switch attempt.result {
        case .response(let status):
            return row(event, index, file, attempts: attempt.number, status: status, error: Self.errorWord(status: status), excerpt: attempt.responseExcerpt)
        case .failure(let failure):
            return row(event, index, file, attempts: attempt.number, status: nil, error: failure.rawValue, excerpt: nil)
        }
    }

    private func row(_ event: Event, _ index: Int, _ file: String, attempts: Int, status: Int?, error: String?, excerpt: String?) -> RunReport.FailureRow {
        RunReport.FailureRow(
            file: file, line: event.line, eventID: event.id, eventType: event.type, endpoint: targets[index].endpoint.name,
            attempts: attempts, lastStatus: status, lastError: error, responseExcerpt: excerpt
        )
    }

    /// A short word for a failing status, for `last_error`.
    static func errorWord(status: Int) -> String {
        switch status {
        case 300...399: return "redirect_not_followed"
        case 408, 425, 429, 500...599: return "retries_exhausted"
        default: return "rejected"
        }
    }
}
