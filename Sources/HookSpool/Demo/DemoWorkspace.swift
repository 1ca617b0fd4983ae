import Foundation

/// The demo's folder: a config of the reference config's shape pointing at loopback receivers, and a sample spool.
public struct DemoWorkspace: Sendable {
    /// Ports and secrets of the demo's receivers.
    public struct Receivers: Sendable {
        public var healthyPort: Int
        public var flakyPort: Int
        public var gonePort: Int
        public var ordersSecret: String
        public var billingSecret: String
        public var crmSecret: String
        public var auditSecret: String

        public init(healthyPort: Int, flakyPort: Int, gonePort: Int, ordersSecret: String, billingSecret: String, crmSecret: String, auditSecret: String) {
            self.healthyPort = healthyPort
            self.flakyPort = flakyPort
            self.gonePort = gonePort
            self.ordersSecret = ordersSecret
            self.billingSecret = billingSecret
            self.crmSecret = crmSecret
            self.auditSecret = auditSecret
        }
    }

    /// What the sample spool holds, for checking the run against.
    public struct Sample: Sendable {
        public var files: [String]
        public var events: Int
        public var invalidLines: Int
        /// Deliveries each endpoint should get, by name.
        public var deliveries: [String: Int]
    }

    /// The demo folder (absolute).
    public let directory: String

    public init(directory: String) {
        self.directory = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    public var configPath: String { directory + "/config.yaml" }
    public var spoolPath: String { directory + "/spool" }

    /// Empties the spool, writes the config and the sample event files; returns what was written.
    public func prepare(receivers: Receivers) throws -> Sample {
        let fm = FileManager.default
        if fm.fileExists(atPath: spoolPath) {
            try fm.removeItem(atPath: spoolPath)
        }
        try fm.createDirectory(atPath: spoolPath + "/incoming", withIntermediateDirectories: true)
        try Data(config(receivers).utf8).write(to: URL(fileURLWithPath: configPath), options: .atomic)
        return try writeSpool()
    }

    func config(_ r: Receivers) -> String {
        """
        # Written by `hookspool demo`: the shape of the annotated config.yaml at the top of the
        # repository, pointed at loopback receivers the demo starts. Secrets here are throwaway.
        spool:
          dir: ./spool
        report:
          dir: ./reports
        delivery:
          concurrency: 32
          timeout: 5s
          max_attempts: 4
          backoff: {initial: 200ms, max: 2s}
        limits:
          max_event_bytes: 64KiB
        endpoints:
          - name: orders            # healthy: answers 200 after checking the Standard Webhooks signature
            url: http://127.0.0.1:\(r.healthyPort)/orders
            events: ["order.*"]
            secret: \(r.ordersSecret)
            signature: standard
            headers: {X-Tenant: demo}
            concurrency: 8
            allow_http: true
            allow_private: true
          - name: billing           # flaky: 503 (or 429 with Retry-After) on early attempts, then 200
            url: http://127.0.0.1:\(r.flakyPort)/billing
            events: ["payment.*", "invoice.*"]
            secret: \(r.billingSecret)
            signature: hmac-sha256
            allow_http: true
            allow_private: true
          - name: crm               # gone: answers 410, a permanent failure
            url: http://127.0.0.1:\(r.gonePort)/crm
            events: ["customer.*"]
            secret: \(r.crmSecret)
            signature: github
            concurrency: 1          # one at a time: after the first 410 the rest wait, unattempted
            max_attempts: 3
            allow_http: true
            allow_private: true
          - name: audit             # healthy: every order and payment, Stripe-style signature
            url: http://127.0.0.1:\(r.healthyPort)/audit
            events: ["order.created", "payment.succeeded"]
            secret: \(r.auditSecret)
            signature: stripe
            allow_http: true
            allow_private: true

        """
    }

    private func writeSpool() throws -> Sample {
        var deliveries: [String: Int] = ["orders": 0, "billing": 0, "crm": 0, "audit": 0]
        var files: [String] = []
        var events = 0
        func write(_ name: String, _ lines: [String]) throws {
            let path = "\(spoolPath)/incoming/\(name)"
            // The producer hand-off: write a temporary name, then rename.
            let temporary = "\(spoolPath)/incoming/.\(name).tmp"
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: temporary))
            try FileManager.default.moveItem(atPath: temporary, toPath: path)
            files.append(name)
        }

        var orders: [String] = []
        let orderTypes = ["order.created", "order.paid", "order.shipped"]
        for n in 1...150 {
            let type = orderTypes[n % 3]
            orders.append(#"{"id":"evt_order_\#(n)_\#(type.split(separator: ".")[1])","type":"\#(type)","data":{"order_id":\#(1000 + n),"amount":\#(n * 250),"currency":"eur"}}"#)
            deliveries["orders", default: 0] += 1
            if type == "order.created" { deliveries["audit", default: 0] += 1 }
        }
        events += orders.count
        try write("orders-0001.ndjson", orders)

        var payments: [String] = []
        for n in 1...100 {
            let type = n % 4 == 0 ? "invoice.paid" : "payment.succeeded"
            payments.append(#"{"type":"\#(type)","data":{"payment_id":"pay_\#(n)","amount":\#(n * 100)}}"#)
            deliveries["billing", default: 0] += 1
            if type == "payment.succeeded" { deliveries["audit", default: 0] += 1 }
        }
        events += payments.count
        try write("payments-0001.ndjson", payments)

        var customers: [String] = []
        for n in 1...40 {
            customers.append(#"{"type":"customer.updated","timestamp":"2026-01-15T09:30:00Z","data":{"customer_id":"cus_\#(n)"}}"#)
            deliveries["crm", default: 0] += 1
        }
        customers.insert("", at: 10)  // blank lines are skipped
        customers.insert(#"{"type":"customer.updated","data":{"customer_id":"cus_broken""#, at: 20)  // not JSON
        customers.insert(#"{"event":"customer.deleted","data":{}}"#, at: 30)  // no type
        customers.append(#"{"type":"internal.heartbeat","data":{}}"#)  // no endpoint subscribes: unrouted
        events += 41
        try write("customers-0001.ndjson", customers)

        return Sample(files: files, events: events, invalidLines: 2, deliveries: deliveries)
    }
}
