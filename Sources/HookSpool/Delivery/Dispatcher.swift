import Foundation
import Logging
import NIOCore
import NIOHTTP1
import WebhookSignature

/// Delivers events to endpoints within the global and per-endpoint limits, retrying with backoff.
///
/// A delivery holds a concurrency permit only while its request is in flight; a retry that waits
/// for its backoff holds none.
final class Dispatcher: Sendable {
    /// One endpoint with its run-time state.
    struct Target: Sendable {
        var endpoint: Endpoint
        var resolution: HostResolver.Resolution
        var limit: AsyncSemaphore?
        var retryPolicy: RetryPolicy
    }

    let targets: [Target]
    private let global: AsyncSemaphore
    private let transport: HTTPTransport
    private let ledger: Ledger
    private let logger: Logger
    private let sleep: @Sendable (Duration) async -> Void

    static let userAgent = "hookspool/\(HookSpoolVersion.current)"

    init(
        targets: [Target],
        concurrency: Int,
        transport: HTTPTransport,
        ledger: Ledger,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async -> Void = { try? await Task.sleep(for: $0) }
    ) {
        self.targets = targets
        self.global = AsyncSemaphore(permits: concurrency)
        self.transport = transport
        self.ledger = ledger
        self.logger = logger
        self.sleep = sleep
    }

    /// Delivers `event` to endpoint `index` until it succeeds, fails for good, or runs out of attempts.
    func deliver(_ event: Event, to index: Int, file: String) async -> FileTask.DeliveryResult {
        let target = targets[index]
        let endpoint = target.endpoint
        switch target.resolution {
        case .unresolved(let reason):
            logger.debug("host did not resolve", metadata: ["hookspool.endpoint": "\(endpoint.name)", "dns.error": "\(reason)"])
            return fail(event, index, file, attempts: 0, status: nil, error: AttemptFailure.dnsError.rawValue, excerpt: nil)
        case .refused(let address, let category):
            logger.debug("host resolves to a refused address", metadata: ["hookspool.endpoint": "\(endpoint.name)", "net.address": "\(address)", "net.category": "\(category)"])
            return fail(event, index, file, attempts: 0, status: nil, error: AttemptFailure.addressNotAllowed.rawValue, excerpt: nil)
        case .direct, .pinned:
            break
        }

        var random = SystemRandomNumberGenerator()
        var number = 0
        while true {
            number += 1
            await target.limit?.acquire()
            await global.acquire()
            let attempt = await transport.post(
                url: endpoint.url.requestURL,
                headers: headers(for: event, endpoint: endpoint),
                body: event.body,
                timeout: endpoint.timeout,
                attempt: number
            )
            global.release()
            target.limit?.release()

            ledger.attempt(attempt, endpoint: index)
            logger.debug(
                "attempt",
                metadata: [
                    "hookspool.endpoint": "\(endpoint.name)", "hookspool.event_id": "\(event.id)", "hookspool.attempt": "\(number)",
                    "http.status": "\(attempt.statusKey)", "latency_ms": "\(attempt.latency.milliseconds)",
                ]
            )
            switch attempt.verdict {
            case .delivered:
                ledger.delivered(endpoint: index)
                return .delivered
            case .permanent:
                return fail(event, index, file, attempt: attempt)
            case .retry:
                if number >= target.retryPolicy.maxAttempts {
                    return fail(event, index, file, attempt: attempt)
                }
                await sleep(target.retryPolicy.delay(afterAttempt: number, retryAfter: attempt.retryAfter, using: &random))
            }
        }
    }

    /// The headers of one attempt, signed with a fresh timestamp.
    func headers(for event: Event, endpoint: Endpoint) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.reserveCapacity(8 + endpoint.headers.count)
        headers.add(name: "Content-Type", value: "application/json")
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

    private func fail(_ event: Event, _ index: Int, _ file: String, attempt: Attempt) -> FileTask.DeliveryResult {
        switch attempt.result {
        case .response(let status):
            return fail(event, index, file, attempts: attempt.number, status: status, error: Self.errorWord(status: status), excerpt: attempt.responseExcerpt)
        case .failure(let failure):
            return fail(event, index, file, attempts: attempt.number, status: nil, error: failure.rawValue, excerpt: nil)
        }
    }

    private func fail(_ event: Event, _ index: Int, _ file: String, attempts: Int, status: Int?, error: String?, excerpt: String?) -> FileTask.DeliveryResult {
        let row = RunReport.FailureRow(
            file: file, line: event.line, eventID: event.id, eventType: event.type, endpoint: targets[index].endpoint.name,
            attempts: attempts, lastStatus: status, lastError: error, responseExcerpt: excerpt
        )
        ledger.failed(endpoint: index, row: row)
        return .failed(row)
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
