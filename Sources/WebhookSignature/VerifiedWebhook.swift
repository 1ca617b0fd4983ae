/// What a successful verification established about a delivery.
public struct VerifiedWebhook: Sendable, Hashable {
    /// The message id covered by the signature (`webhook-id` for `standard`); `nil` for schemes that do not sign an id.
    public let id: String?
    /// The unix-seconds timestamp that passed the tolerance check (`standard`, `stripe`, and `hmac-sha256` when
    /// `X-Webhook-Timestamp` is present — there it is not covered by the signature); `nil` when there was none.
    public let timestamp: Int64?

    /// Creates a result, e.g. to compare against in a test.
    public init(id: String?, timestamp: Int64?) {
        self.id = id
        self.timestamp = timestamp
    }
}
