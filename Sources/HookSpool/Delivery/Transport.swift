import NIOCore
import NIOHTTP1

/// Sends one endpoint's attempts: the HTTP transport in a run, a scripted one in tests.
protocol Transport: Sendable {
    /// POSTs `body` with `headers` (which carry `Host` and `Content-Length`); the attempt, connect
    /// to last byte, ends at `timeout`. Never throws: whatever happens becomes the `Attempt`.
    func post(headers: HTTPHeaders, body: ByteBuffer, timeout: Duration, attempt number: Int) async -> Attempt
    /// Closes what the transport keeps open.
    func shutdown() async
    /// Closes the idle connections beyond the `keeping` most recently used.
    func closeIdle(keeping: Int)
}

extension Transport {
    /// Keeps nothing idle to close (a scripted transport).
    func closeIdle(keeping: Int) {}
}
