import Foundation
import HookSpoolReceiver
@testable import HookSpool

/// Real runs that produce the reports the report tests look at.
enum ReportScenario {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// Every delivery succeeds: two endpoints (one rate-limited), one unrouted event.
    static func clean(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("clean-1.ndjson", (1...6).map { #"{"id":"evt_clean_\#($0)","type":"\#($0 % 2 == 0 ? "order.created" : "user.signup")"}"# } + [#"{"type":"nobody.listens"}"#])
        try ws.drop("clean-2.jsonl", [#"{"id":"evt_clean_7","type":"order.paid","data":{"n":7}}"#])
        return try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try await ws.run(testConfig(endpoints: [
                testEndpoint(name: "orders", port: receiver.port, path: "/orders", events: #"["order.*"]"#),
                testEndpoint(name: "users", port: receiver.port, path: "/users", events: #"["user.*"]"#, more: "rate_limit: 100/s"),
            ].joined(separator: "\n")))
        }
    }

    /// Events a failing run sends, by endpoint: `ok` takes all, `gone` answers 410 with a body,
    /// `busy` (rate-limited) answers 503 until its attempts run out, `closed` refuses connections.
    static let failingEvents = [
        #"{"id":"evt_f1","type":"order.created"}"#,
        #"{"id":"evt_f2","type":"order.paid"}"#,
        "this line is not JSON",
        #"{"id":"evt_f3","type":"invoice.sent"}"#,
        #"{"id":"no-type-here"}"#,
    ]

    /// Deliveries that fail for good in several ways (status with body, retries exhausted, no answer), and invalid lines.
    static func failing(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("mixed.ndjson", failingEvents)
        try ws.drop("fine.ndjson", [#"{"id":"evt_fine","type":"ping"}"#])
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        return try await LoopbackReceiver.run(handler: { request in
            switch request.path {
            case "/gone": ReceiverReply(status: 410, body: #"{"error":"endpoint deleted"}"#)
            case "/busy": ReceiverReply(status: 503, body: "try later")
            default: .ok
            }
        }) { receiver in
            try await ws.run(testConfig(
                endpoints: [
                    testEndpoint(name: "ok", port: receiver.port, path: "/ok", events: #"["*"]"#),
                    testEndpoint(name: "gone", port: receiver.port, path: "/gone", events: #"["order.*"]"#),
                    testEndpoint(name: "busy", port: receiver.port, path: "/busy", events: #"["invoice.*"]"#, more: "rate_limit: 1000/s"),
                    testEndpoint(name: "closed", port: closed, path: "/x", events: #"["order.paid"]"#),
                ].joined(separator: "\n"),
                maxAttempts: 2,
                retryFor: "0s"
            ))
        }
    }

    /// A receiver that answers 503 while `retry_for` leaves time: the deliveries are deferred to a
    /// later run; the endpoint has `ordering: fifo`, so the one after is held.
    static func deferred(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("later.ndjson", [
            #"{"id":"evt_later","type":"order.created"}"#, #"{"id":"evt_now","type":"user.signup"}"#, #"{"id":"evt_held","type":"order.paid"}"#,
        ])
        return try await LoopbackReceiver.run(handler: { request in
            request.path == "/busy" ? ReceiverReply(status: 503, body: "busy") : .ok
        }) { receiver in
            try await ws.run(testConfig(
                endpoints: [
                    testEndpoint(name: "busy", port: receiver.port, path: "/busy", events: #"["order.*"]"#, more: "ordering: fifo"),
                    testEndpoint(name: "fine", port: receiver.port, path: "/fine", events: #"["user.*"]"#),
                ].joined(separator: "\n"),
                maxAttempts: 2,
                retryFor: "1h"
            ))
        }
    }

    /// A dry run over a spool with one valid and one invalid line.
    static func dryRun(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("dry.ndjson", [#"{"id":"evt_dry","type":"order.created"}"#, "{broken"])
        return try await ws.run(testConfig(endpoints: testEndpoint(name: "orders", port: 9, events: #"["order.*"]"#)), dryRun: true)
    }
}
