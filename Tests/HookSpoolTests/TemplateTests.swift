import Foundation
import HookSpoolReceiver
import NIOCore
import Synchronization
import Testing
import WebhookSignature
@testable import HookSpool

/// Body templates: an endpoint's own body, rendered from each event, escaped for its content
/// type, and signed as sent; the shipped Slack, Discord and Teams templates.
@Suite("Body templates")
struct TemplateTests {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    /// `examples/templates/` in this checkout.
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/templates").standardizedFileURL.path

    /// Summaries that break a body built by pasting text into JSON.
    static let hostile = [
        #"a "quoted" word"#, "two\nlines\r\nand a\ttab", "a control \u{01} and \u{1F} and DEL \u{7F}", "emoji 🚀 and 日本語 and Zoë",
        #"back\slash \\ and \"escaped\" quote"#, "</script><b>&amp;</b>", "separators \u{2028} \u{2029}", "{{id}} is not a template", "",
    ]

    /// An event line whose `data.summary` is `summary`, written as JSON.
    static func line(_ n: Int, summary: String) throws -> String {
        let object: [String: Any] = ["id": "evt_\(n)", "type": "deploy.finished", "timestamp": "2026-12-01T10:00:00Z", "data": ["summary": summary, "n": n]]
        return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    @Test("a Slack-template endpoint gets valid JSON of the template's shape for quotes, newlines, controls and emoji, signed over the bytes sent; another endpoint gets the event")
    func slackEndToEnd() async throws {
        let ws = try TestWorkspace()
        try FileManager.default.createDirectory(atPath: ws.root + "/templates", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: Self.examples + "/slack.mustache", toPath: ws.root + "/templates/slack.mustache")
        try ws.drop("events.ndjson", try Self.hostile.enumerated().map { try Self.line($0.offset + 1, summary: $0.element) } + [#"{"id":"evt_bare","type":"deploy.finished"}"#])
        let received = Mutex<[ReceivedRequest]>([])
        try await LoopbackReceiver.run(handler: { request in
            received.withLock { $0.append(request) }
            return .ok
        }) { receiver in
            let yaml = testConfig(endpoints: [
                testEndpoint(name: "slack", port: receiver.port, path: "/slack", more: "template: templates/slack.mustache"),
                testEndpoint(name: "plain", port: receiver.port, path: "/plain"),
            ].joined(separator: "\n"))
            let outcome = try await ws.run(yaml)
            #expect(outcome.exitStatus == .ok, "\(outcome.report.failures) \(outcome.report.errors)")
        }
        let requests = received.withLock { $0 }
        let verifier = try WebhookVerifier(scheme: .standard, secrets: [Self.secret])
        let slack = requests.filter { $0.path == "/slack" }
        #expect(slack.count == Self.hostile.count + 1)
        for request in slack {
            let id = try #require(request.header("webhook-id"))
            #expect(request.header("Content-Type") == "application/json")
            #expect(request.header("Content-Length") == String(request.body.count))
            // The signature covers exactly the bytes received.
            #expect(try verifier.verify(headers: request.headers, body: request.body).id == id)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], "valid JSON: \(String(decoding: request.body, as: UTF8.self))")
            #expect(Array(object.keys) == ["text"])
            let text = try #require(object["text"] as? String)
            #expect(text.hasPrefix("*deploy.finished* `\(id)`"), "the event id is in the text: \(text)")
            if id == "evt_bare" {
                #expect(text == "*deploy.finished* `evt_bare`\n" + (text.split(separator: "\n").last.map(String.init) ?? ""), "no data: the section renders nothing")
            } else {
                let n = try #require(Int(id.dropFirst(4)))
                let summary = Self.hostile[n - 1]
                // An empty summary counts as missing: the section renders nothing.
                let expected = summary.isEmpty ? "*deploy.finished* `\(id)`" : "*deploy.finished* `\(id)`: \(summary)"
                #expect(text == expected + "\n2026-12-01T10:00:00Z", "exactly the summary, whatever it holds")
            }
        }
        let plain = requests.filter { $0.path == "/plain" }
        #expect(plain.count == slack.count)
        for request in plain {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(object["type"] as? String == "deploy.finished", "the event itself")
        }
    }

    @Test("the Discord and Teams templates give valid JSON of their shape for every hostile summary, and for an event without data", arguments: ["discord", "teams"])
    func shippedTemplates(_ name: String) throws {
        let text = try String(contentsOfFile: Self.examples + "/\(name).mustache", encoding: .utf8)
        let template = try BodyTemplate(path: "\(name).mustache", text: text, contentType: "application/json")
        for (index, summary) in Self.hostile.enumerated() {
            let body = template.render(json: try Self.line(index + 1, summary: summary))
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any], "\(name): \(body)")
            if name == "discord" {
                let content = try #require(object["content"] as? String)
                #expect(content.contains("`evt_\(index + 1)`") && (summary.isEmpty || content.contains(summary)))
                #expect((object["allowed_mentions"] as? [String: Any])?["parse"] as? [Any] != nil)
            } else {
                #expect(object["type"] as? String == "message")
                #expect(body.contains("evt_\(index + 1)"))
                let facts = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
                #expect(facts.contains("Event"))
            }
        }
        let bare = template.render(json: #"{"id":"evt_bare","type":"t"}"#)
        #expect((try? JSONSerialization.jsonObject(with: Data(bare.utf8))) != nil, "\(name) without data: \(bare)")
        if name == "teams" { #expect(bare.contains("(no summary)")) }
    }

    @Test("escaping follows the content type: JSON strings for JSON, HTML for text/html, none for text/plain; numbers and booleans as JSON writes them")
    func escaping() throws {
        let event = #"{"id":"evt_1","type":"t","data":{"s":"<a href=\"x\">&</a>\n","n":12.5,"i":42,"b":true,"nothing":null}}"#
        let template = "{{data.s}}|{{data.n}}|{{data.i}}|{{data.b}}|{{^data.nothing}}none{{/data.nothing}}|{{data.missing}}"
        #expect(try BodyTemplate(path: "t", text: template, contentType: "application/json").render(json: event)
            == #"<a href=\"x\">&</a>\n|12.5|42|true|none|"#)
        #expect(try BodyTemplate(path: "t", text: template, contentType: "application/vnd.api+json; charset=utf-8").escaping == .json)
        #expect(try BodyTemplate(path: "t", text: template, contentType: "text/html").render(json: event)
            == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;\n|12.5|42|true|none|")
        #expect(try BodyTemplate(path: "t", text: template, contentType: "text/plain; charset=utf-8").render(json: event)
            == "<a href=\"x\">&</a>\n|12.5|42|true|none|")
        // Not a JSON object (the engine always sends one; still never a crash): nothing to insert.
        #expect(try BodyTemplate(path: "t", text: "[{{id}}]", contentType: "application/json").render(json: "[1,2]") == "[]")
    }

    @Test("what a producer sends cannot multiply the body or crash the renderer: arrays render once, as JSON; a huge integer with plusone; a number no Double holds")
    func hostileData() throws {
        let slack = try BodyTemplate(path: "slack", text: try String(contentsOfFile: Self.examples + "/slack.mustache", encoding: .utf8), contentType: "application/json")
        let elements = Array(repeating: "0", count: 20_000).joined(separator: ",")
        let event = #"{"id":"evt_1","type":"t","timestamp":"2026-12-01T00:00:00Z","data":{"summary":[\#(elements)]}}"#
        let body = slack.render(json: event)
        // Once, as its JSON text (escaped into the string): linear in the event, not quadratic.
        #expect(body.utf8.count < 2 * event.utf8.count, "\(body.utf8.count) bytes for a \(event.utf8.count)-byte event")
        let text = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["text"] as? String)
        #expect(text.contains(": [0,0,0"))

        let nested = try BodyTemplate(path: "t", text: "{{data}}|{{data.o.k}}|{{#data.empty}}x{{/data.empty}}|{{plusone(data.big)}}|{{data.huge}}|{{data.s}}", contentType: "text/plain")
        #expect(nested.render(json: #"{"id":"e","type":"t","data":{"o":{"k":"v"},"empty":[],"big":9223372036854775807,"huge":1e400,"s":"ok"}}"#)
            == #"{"big":9223372036854775807,"empty":[],"huge":null,"o":{"k":"v"},"s":"ok"}|v||||ok"#)
    }

    @Test("a template error is a config error with the template's line; a missing file, a bad content_type, or content_type without a template too")
    func configErrors() throws {
        let ws = try TestWorkspace()
        try Data("{\"text\": \"{{id}}\",\n \"more\": \"{{#data.items}}{{name}}{{/data.other}}\"}\n".utf8).write(to: URL(fileURLWithPath: ws.root + "/broken.mustache"))
        try Data("{\"text\": \"{{id}}\"}".utf8).write(to: URL(fileURLWithPath: ws.root + "/ok.mustache"))
        func issues(_ more: String) -> [ConfigIssue] {
            do {
                _ = try ws.config(testConfig(endpoints: testEndpoint(port: 9, more: more)))
                return []
            } catch {
                return error.issues
            }
        }
        let broken = issues("template: broken.mustache")
        #expect(broken.count == 1)
        #expect(broken.first?.file == ws.root + "/broken.mustache")
        #expect(broken.first?.line == 2, "\(broken)")
        #expect(broken.first?.message.hasPrefix("bad template: ") == true)
        #expect(issues("template: missing.mustache").first?.message.contains("no such file") == true)
        #expect(issues("content_type: text/plain").first?.message.contains("applies to a template's body only") == true)
        #expect(issues("template: ok.mustache\ncontent_type: \"text/plain\\r\\nX-Injected: 1\"").first?.message.contains("is not a media type") == true)
        #expect(issues("template: ok.mustache\ncontent_type: text/plain; charset=utf-8").isEmpty)
        let config = try ws.config(testConfig(endpoints: testEndpoint(port: 9, more: "template: ok.mustache\ncontent_type: text/plain")))
        #expect(config.endpoints.first?.contentType == "text/plain")
        #expect(config.endpoints.first?.template?.escaping == BodyTemplate.Escaping.none)
    }
}
