import Foundation
import Logging

/// How a log record becomes one line: `logfmt` (`key=value` pairs) or `json` (one object).
///
/// Both lead with `time` (RFC 3339, UTC, milliseconds), `level` and `msg`, then the metadata sorted by key.
///
/// ```swift
/// LogLineFormat.logfmt.line(time: now, level: .info, message: "file finished", metadata: ["hookspool.file": "a.ndjson"])
/// // time=2026-11-29T05:00:00.123Z level=info msg="file finished" hookspool.file=a.ndjson
/// LogLineFormat.json.line(time: now, level: .info, message: "file finished", metadata: ["hookspool.file": "a.ndjson"])
/// // {"time":"2026-11-29T05:00:00.123Z","level":"info","msg":"file finished","hookspool.file":"a.ndjson"}
/// ```
public enum LogLineFormat: String, Sendable, CaseIterable {
    case logfmt
    case json

    /// Keys every line starts with; metadata keys that clash are written as `metadata.KEY`.
    static let reservedKeys: Set<String> = ["time", "level", "msg"]

    /// One log line, without the trailing newline.
    public func line(time: Date, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        let seconds = time.timeIntervalSince1970
        let whole = Int(seconds.rounded(.down))
        let stamp = RFC3339.format(secondsSince1970: whole, milliseconds: min(999, Int(((seconds - Double(whole)) * 1000).rounded(.down))))
        let fields = metadata.sorted { $0.key < $1.key }.map { key, value in
            (Self.reservedKeys.contains(key) ? "metadata.\(key)" : key, value)
        }
        switch self {
        case .logfmt:
            var parts = ["time=\(stamp)", "level=\(level.rawValue)", "msg=\(Self.logfmtValue(message))"]
            for (key, value) in fields {
                Self.appendLogfmt(key: key, value: value, to: &parts)
            }
            return parts.joined(separator: " ")
        case .json:
            var text = "{\"time\":\"\(stamp)\",\"level\":\"\(level.rawValue)\",\"msg\":\(Self.jsonString(message))"
            for (key, value) in fields {
                text += ",\(Self.jsonString(key)):\(Self.jsonValue(value))"
            }
            return text + "}"
        }
    }

    // MARK: - logfmt

    /// Flattens nested dictionaries into dotted keys; lists become one comma-separated value.
    private static func appendLogfmt(key: String, value: Logger.MetadataValue, to parts: inout [String]) {
        switch value {
        case .dictionary(let dictionary):
            for (inner, innerValue) in dictionary.sorted(by: { $0.key < $1.key }) {
                appendLogfmt(key: "\(key).\(inner)", value: innerValue, to: &parts)
            }
        case .array(let items):
            parts.append("\(logfmtKey(key))=\(logfmtValue(items.map(\.description).joined(separator: ",")))")
        case .string(let text):
            parts.append("\(logfmtKey(key))=\(logfmtValue(text))")
        case .stringConvertible(let convertible):
            parts.append("\(logfmtKey(key))=\(logfmtValue(convertible.description))")
        }
    }

    /// A key with anything but letters, digits and `._-/` replaced by `_`.
    static func logfmtKey(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.map { scalar -> Character in
            let allowed = scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "._-/".unicodeScalars.contains(scalar))
            return allowed ? Character(scalar) : "_"
        })
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// A value as it is when it is a plain word, else in double quotes with `\`, `"` and control characters escaped.
    static func logfmtValue(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value != 0x7F && scalar != "\"" && scalar != "=" && scalar != "\\"
                && !(0x80...0x9F).contains(scalar.value)
        }
        return plain ? value : "\"\(escaped(value))\""
    }

    // MARK: - JSON

    private static func jsonValue(_ value: Logger.MetadataValue) -> String {
        switch value {
        case .string(let text):
            return jsonString(text)
        case .stringConvertible(let convertible):
            return jsonString(convertible.description)
        case .array(let items):
            return "[" + items.map(jsonValue).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonValue($0.value))" }.joined(separator: ",") + "}"
        }
    }

    /// A JSON string literal.
    public static func jsonString(_ text: String) -> String {
        "\"\(escaped(text))\""
    }

    /// `\`, `"` and control characters escaped the way both JSON and logfmt read them (also the
    /// inside of a body template's JSON strings).
    static func escaped(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F || (0x80...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
