import NIOCore

/// One event read from a spool file, with the exact bytes every delivery of it sends.
public struct Event: Sendable {
    /// 1-based line number in its file.
    public var line: Int
    /// The event id, given or derived; the same on every attempt and every run.
    public var id: String
    /// The event type, used for routing.
    public var type: String
    /// The JSON object sent as the request body.
    public var body: ByteBuffer

    public init(line: Int, id: String, type: String, body: ByteBuffer) {
        self.line = line
        self.id = id
        self.type = type
        self.body = body
    }
}
