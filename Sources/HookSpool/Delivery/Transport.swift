import NIOCore
import NIOHTTP1

/// Sends one endpoint's attempts: the HTTP transport in a run, a scripted one in tests.
protocol Transport: Sendable {
    /// POSTs `body` with `headers` (which carry `Host` and `Content-Length`); the attempt, connect
    /// to last byte, ends at `timeout`. Never throws: whatever happens becomes the `Attempt`.
    func post(headers: HTTPHeaders, body: ByteBuffer, timeout: Duration, attempt number: Int) async -> Attempt
    /// Closes what the transport keeps open.
    func shutdown() async
    /// Closes the idle connections that the endpoint's `pending` deliveries (those not finished,
    /// the ones sending now included) could not all take.
    func closeSpare(pending: Int)
}

extension Transport {
    /// Keeps nothing idle to close (a scripted transport).
    func closeSpare(pending: Int) {}
}
