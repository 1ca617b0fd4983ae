import Foundation
import Mustache
import NIOCore

/// An endpoint's own request body: a Mustache template rendered from each event, sent with its content type.
public struct BodyTemplate: Sendable {
    /// How inserted values are escaped, from the content type.
    public enum Escaping: String, Sendable {
        /// As the inside of a JSON string (`application/json`, `…+json`): quotes, backslashes and control characters.
        case json
        /// For HTML (`text/html`, `application/xhtml+xml`): `&`, `<`, `>`, quotes.
        case html
        /// Not at all (any other type, `text/plain` among them).
        case none
    }

    /// The template file, as the config names it.
    public let path: String
    /// The `Content-Type` the body is sent with.
    public let contentType: String
    public let escaping: Escaping
    private let template: MustacheTemplate

    /// Parses `text`; throws `MustacheTemplate.ParserError` (with the line and column) for a bad template.
    init(path: String, text: String, contentType: String) throws {
        self.path = path
        self.contentType = contentType
        escaping = Self.escaping(for: contentType)
        // The pragma goes first on line 1, so the parser's line numbers stay the file's.
        switch escaping {
        case .json:
            _ = Self.registered
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(Self.jsonTypeName)}}" + text)
        case .html:
            template = try MustacheTemplate(string: text)
        case .none:
            template = try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        }
    }

    static func escaping(for contentType: String) -> Escaping {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if media == "application/json" || media.hasSuffix("+json") { return .json }
        if media == "text/html" || media == "application/xhtml+xml" { return .html }
        return .none
    }

    /// The body for `event`: the template rendered from the fields of the JSON object it would
    /// otherwise send (`id`, `type`, `timestamp`, `data`, …). A missing value renders as the
    /// template says (empty, or an inverted section's text); so do a JSON `null` and `""`.
    public func render(_ event: Event) -> ByteBuffer {
        ByteBuffer(string: template.render(Self.fields(of: event.body)))
    }

    /// The template rendered from the fields of the JSON object `json`.
    public func render(json: String) -> String {
        template.render(Self.fields(of: ByteBuffer(string: json)))
    }

    /// `event` with this template's body in place of its own.
    func apply(to event: Event) -> Event {
        Event(line: event.line, id: event.id, type: event.type, body: render(event))
    }

    /// The event's JSON object as Swift values the renderer walks: strings, numbers, booleans, arrays and dictionaries.
    static func fields(of body: ByteBuffer) -> [String: Any] {
        guard let value = try? JSONDecoder().decode(TemplateValue.self, from: Data(body.readableBytesView)),
              case .object(let fields) = value
        else { return [:] }
        return fields.compactMapValues(\.renderable)
    }

    private static let jsonTypeName = "HOOKSPOOL_JSON_STRING"
    private static let registered: Void = MustacheContentTypes.register(JSONStringEscaping(), named: jsonTypeName)
}

/// A JSON value, read in full so that numbers and booleans render as written in JSON (`true`, `12.5`).
private enum TemplateValue: Decodable {
    case string(String)
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case array([TemplateValue])
    case object([String: TemplateValue])
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([TemplateValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: TemplateValue].self) {
            self = .object(value)
        } else {
            // A number no Double holds (1e400): rendered as missing, the rest of the event as usual.
            self = .null
        }
    }

    /// The value as the renderer takes it; nil for `null` and the empty string, which render as
    /// missing (so a section over them shows nothing, as in most Mustache engines). Numbers are
    /// their text (never an integer type: the engine's `plusone` would trap at `Int64.max`);
    /// arrays and objects render as their JSON text, and a section over an array shows once, not
    /// once per element, so what a producer sends cannot multiply the body.
    var renderable: Any? {
        switch self {
        case .string(let value): value.isEmpty ? nil : value
        case .bool(let value): value
        case .integer, .number: json
        case .array: TemplateArray(text: json)
        case .object(let fields): TemplateObject(fields: fields.compactMapValues(\.renderable), text: json)
        case .null: nil
        }
    }

    /// The value as compact JSON (object keys sorted).
    var json: String {
        switch self {
        case .string(let value): LogLineFormat.jsonString(value)
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): String(value)
        case .number(let value): value.isFinite ? "\(value)" : "null"
        case .array(let values): "[" + values.map(\.json).joined(separator: ",") + "]"
        case .object(let fields): "{" + fields.sorted { $0.key < $1.key }.map { LogLineFormat.jsonString($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}"
        case .null: "null"
        }
    }
}

/// A JSON object inside the event: its fields for `{{a.b}}` and sections, its JSON text for `{{a}}`.
private struct TemplateObject: MustacheParent, MustacheCustomRenderable {
    let fields: [String: Any]
    let text: String
    func child(named name: String) -> Any? { fields[name] }
    var renderText: String { text }
    var isNull: Bool { false }
}

/// A JSON array inside the event: its JSON text; empty, it counts as missing.
private struct TemplateArray: MustacheCustomRenderable {
    let text: String
    var renderText: String { text }
    var isNull: Bool { text == "[]" }
}

/// Escapes a value for the inside of a JSON string, as log lines are: whatever the event holds,
/// a quoted placeholder stays one valid JSON string.
private struct JSONStringEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String {
        LogLineFormat.escaped(text)
    }
}
