/// Header names as the signer writes them; the verifier matches them case-insensitively.
enum HeaderName {
    static let webhookID = "webhook-id"
    static let webhookTimestamp = "webhook-timestamp"
    static let webhookSignature = "webhook-signature"
    static let xWebhookSignature = "X-Webhook-Signature"
    static let xWebhookEvent = "X-Webhook-Event"
    static let xWebhookID = "X-Webhook-Id"
    static let xWebhookTimestamp = "X-Webhook-Timestamp"
    static let xHubSignature256 = "X-Hub-Signature-256"
    static let stripeSignature = "Stripe-Signature"
}
