import Foundation
import Testing
@testable import HookSpool

/// Tests of EventLineParser: valid lines, field extraction, invalid lines, and agreement with JSONSerialization.
@Suite struct EventLineParserTests {
    // MARK: Helpers

    /// Parses a line given as text.
    private func parse(_ text: String) -> Result<EventLineFields, EventLineError> {
        EventLineParser.parse(Array(text.utf8))
    }

    /// The fields of a line that must be valid (nil, with an issue recorded, otherwise).
    private func fields(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> EventLineFields? {
        switch parse(text) {
        case .success(let fields):
            return fields
        case .failure(let error):
            Issue.record("expected valid, got \(error.reason) (offset \(error.offset)) for \(text.prefix(80))", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The error of a line that must be invalid (nil, with an issue recorded, otherwise).
    private func failure(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> EventLineError? {
        switch EventLineParser.parse(bytes) {
        case .success(let fields):
            Issue.record("expected an error, got \(fields)", sourceLocation: sourceLocation)
            return nil
        case .failure(let error):
            return error
        }
    }

    /// Whether an error is about the JSON text itself (syntax, UTF-8, not an object), not the event fields.
    private static func isSyntaxError(_ error: EventLineError) -> Bool {
        error.reason.hasPrefix("not valid JSON") || error.reason.hasPrefix("not valid UTF-8")
            || error.reason.hasPrefix("not a JSON object")
    }

    // MARK: Valid lines

    @Test("valid lines are accepted", arguments: [
        #"{"type":"order.created","id":"evt_1","timestamp":"2025-01-01T00:00:00Z","data":{"order":42}}"#,
        #"{"type":"a"}"#,
        #"{"type":"a","data":{"nested":{"deep":[1,2,[3,{"x":null}]],"empty":{},"list":[]}}}"#,
        #"{"type":"a","data":[true,false,null,"s",0,-1]}"#,
        #"{"type":"esc","s":"\" \\ \/ \b \f \n \r \t \u0041 \u00e9 \u20AC \ud83d\ude00 \u0000"}"#,
        #"{"type":"unicode","s":"héllo wörld € 日本語 🚀 𝄞"}"#,
        #"{"type":"n","a":-0,"b":1e10,"c":1.5E-3,"d":0.0,"e":-12.34e+5,"f":0,"g":123456789012345678901234567890,"h":1E400}"#,
        #"{"type":"a","extra":"field","more":[{"type":"nested"}]}"#,
        " \t\r\n{\"type\":\"ws\"} \t\r\n",
        "{ \"type\" : \"ws\" , \"data\" : [ 1 , 2 ] , \"x\" : { } }",
        #"{"type":"a","":"empty key","k":""}"#,
        #"{"type":"a","data":null}"#,
        #"{"type":"a","dup":1,"dup":2}"#,
        "{\"type\":\"del \u{7F} is not a control character for JSON\"}",
    ])
    func acceptsValid(_ line: String) {
        _ = fields(line)
    }

    @Test func extractsTypicalEvent() {
        let line = #"{"type":"order.created","id":"evt_1","timestamp":"2025-01-01T00:00:00Z","data":{"order":42},"v":2}"#
        let expected = EventLineFields(
            type: "order.created", id: "evt_1", timestamp: "2025-01-01T00:00:00Z", hasData: true,
            objectStart: 0, objectEnd: line.utf8.count - 1
        )
        #expect(fields(line) == expected)
        #expect(fields(line)?.hasMembers == true)
    }

    @Test func absentOptionalFieldsAreNil() {
        let result = fields(#"{"type":"ping","extra":[1,2]}"#)
        #expect(result?.type == "ping")
        #expect(result?.id == nil)
        #expect(result?.timestamp == nil)
        #expect(result?.hasData == false)
    }

    @Test func dataPresenceIsReportedForAnyValue() {
        #expect(fields(#"{"type":"a","data":null}"#)?.hasData == true)
        #expect(fields(#"{"type":"a","data":"text"}"#)?.hasData == true)
        #expect(fields(#"{"type":"a","data":[]}"#)?.hasData == true)
        #expect(fields(#"{"type":"a","dat":{}}"#)?.hasData == false)
    }

    @Test func nestedFieldsAreIgnored() {
        let line = #"{"data":{"type":"inner","id":"inner-id","timestamp":"t","data":1},"type":"outer","list":[{"type":"x"}]}"#
        let result = fields(line)
        #expect(result?.type == "outer")
        #expect(result?.id == nil)
        #expect(result?.timestamp == nil)
        #expect(result?.hasData == true)
    }

    @Test func nestedDuplicatesAndNonStringsAreIgnored() {
        let result = fields(#"{"type":"t","data":{"type":1,"type":2,"id":[],"id":{}}}"#)
        #expect(result?.type == "t")
        #expect(result?.id == nil)
    }

    @Test func escapedValuesAreDecoded() {
        let line = #"{"type":"order\u002ecreated","id":"a\"b\\c\/d\n\t","timestamp":"\u00e9\ud83d\ude00\u20ac"}"#
        let result = fields(line)
        #expect(result?.type == "order.created")
        #expect(result?.id == "a\"b\\c/d\n\t")
        #expect(result?.timestamp == "é😀€")
    }

    @Test func allSimpleEscapesDecode() {
        #expect(fields(#"{"type":"\b\f\n\r\t\"\\\/"}"#)?.type == "\u{08}\u{0C}\n\r\t\"\\/")
        #expect(fields(#"{"type":"x\u0000y"}"#)?.type == "x\u{0}y")
    }

    @Test func escapedKeysAreRecognised() {
        let result = fields(#"{"typ\u0065":"t","\u0069d":"i","time\u0073tamp":"ts","d\u0061ta":0}"#)
        #expect(result == EventLineFields(type: "t", id: "i", timestamp: "ts", hasData: true, objectStart: 0, objectEnd: 66))
    }

    @Test func multiByteTextIsKept() {
        #expect(fields(#"{"type":"commande.créée","id":"日本🚀"}"#)?.id == "日本🚀")
        #expect(fields(#"{"type":"commande.créée"}"#)?.type == "commande.créée")
    }

    @Test func offsetsSkipSurroundingWhitespace() {
        let line = "  \t{\"type\":\"a\"}\r\n "
        let result = fields(line)
        #expect(result?.objectStart == 3)
        #expect(result?.objectEnd == 14)
        let bytes = Array(line.utf8)
        if let result {
            #expect(bytes[result.objectStart] == UInt8(ascii: "{"))
            #expect(bytes[result.objectEnd] == UInt8(ascii: "}"))
        }
    }

    @Test func objectEndIsTheMatchingBrace() {
        let line = #"{"type":"a","data":{"b":{"c":"}"}}}  "#
        #expect(fields(line)?.objectEnd == 34)
    }

    @Test func longStringsAcrossWordBoundaries() {
        for length in 1..<40 {
            let body = String(repeating: "é", count: length) + String(repeating: "x", count: length)
            #expect(fields("{\"type\":\"\(body)\"}")?.type == body)
            #expect(fields("{\"type\":\"t\",\"s\":\"\(body)\\\"\(body)\"}")?.type == "t")
        }
    }

    @Test func depthUpToTheLimitIsAccepted() {
        let inner = String(repeating: "[", count: EventLineParser.maximumDepth - 1)
            + String(repeating: "]", count: EventLineParser.maximumDepth - 1)
        #expect(fields("{\"type\":\"deep\",\"data\":\(inner)}")?.type == "deep")
        let objects = String(repeating: "{\"a\":", count: EventLineParser.maximumDepth - 1) + "1"
            + String(repeating: "}", count: EventLineParser.maximumDepth - 1)
        #expect(fields("{\"type\":\"deep\",\"data\":\(objects)}")?.type == "deep")
    }

    @Test func containerKindsAreTrackedBeyondSixtyFourLevels() {
        // Alternating kinds past the 64-level word check that each close matches its own opener.
        var open = ""
        var close = ""
        for level in 0..<200 {
            if level % 3 == 0 {
                open += "{\"k\":"
                close = "}" + close
            } else {
                open += "["
                close = "]" + close
            }
        }
        #expect(fields("{\"type\":\"t\",\"data\":\(open)1\(close)}") != nil)
        let swapped = "{\"type\":\"t\",\"data\":\(open)1\(close.replacingOccurrences(of: "]", with: "}"))}"
        #expect(failure(Array(swapped.utf8))?.reason.hasPrefix("not valid JSON: expected ',' or ']'") == true)
    }

    @Test func emptyBufferIsAnError() {
        #expect(EventLineParser.parse(UnsafeRawBufferPointer(start: nil, count: 0))
            == .failure(EventLineError(reason: "not valid JSON: the line is empty", offset: 0)))
    }

    // MARK: Invalid lines

    /// An invalid line and the reason expected (the whole reason when it ends with "byte N", else a prefix).
    struct InvalidCase: CustomTestStringConvertible, Sendable {
        let bytes: [UInt8]
        let reason: String
        let offset: Int
        var testDescription: String { String(decoding: bytes.prefix(40), as: UTF8.self) }

        init(_ text: String, _ reason: String, _ offset: Int) {
            self.init(bytes: Array(text.utf8), reason, offset)
        }

        init(bytes: [UInt8], _ reason: String, _ offset: Int) {
            self.bytes = bytes
            self.reason = reason
            self.offset = offset
        }
    }

    @Test("invalid lines are rejected with a precise reason", arguments: [
        InvalidCase("", "not valid JSON: the line is empty", 0),
        InvalidCase("  \t\r\n", "not valid JSON: the line holds only whitespace", 0),
        InvalidCase("[]", "not a JSON object (found an array)", 0),
        InvalidCase(#" "str""#, "not a JSON object (found a string)", 1),
        InvalidCase("42", "not a JSON object (found a number)", 0),
        InvalidCase("null", "not a JSON object (found null)", 0),
        InvalidCase("true", "not a JSON object (found a boolean)", 0),
        InvalidCase(#"{"type":"a",}"#, "not valid JSON: trailing comma at byte 11", 11),
        InvalidCase(#"{"type":"a","l":[1,2,]}"#, "not valid JSON: trailing comma at byte 20", 20),
        InvalidCase("{'type':'a'}", #"not valid JSON: expected a string key or '}' but found "'" at byte 1"#, 1),
        InvalidCase("{type:\"a\"}", "not valid JSON: expected a string key or '}' but found 't' at byte 1", 1),
        InvalidCase(#"{"type":"a","n":01}"#, "not valid JSON: leading zero in a number at byte 16", 16),
        InvalidCase(#"{"type":"a","n":-01}"#, "not valid JSON: leading zero in a number at byte 17", 17),
        InvalidCase(#"{"type":"a","n":1.}"#, "not valid JSON: expected a digit after '.' but found '}' at byte 18", 18),
        InvalidCase(#"{"type":"a","n":.5}"#, "not valid JSON: expected a value but found '.' at byte 16", 16),
        InvalidCase(#"{"type":"a","n":+1}"#, "not valid JSON: expected a value but found '+' at byte 16", 16),
        InvalidCase(#"{"type":"a","n":-}"#, "not valid JSON: expected a digit after '-' but found '}' at byte 17", 17),
        InvalidCase(#"{"type":"a","n":1e}"#, "not valid JSON: expected a digit in the exponent but found '}' at byte 18", 18),
        InvalidCase(#"{"type":"a","n":1e+}"#, "not valid JSON: expected a digit in the exponent but found '}' at byte 19", 19),
        InvalidCase(#"{"type":"a","n":NaN}"#, "not valid JSON: expected a value but found 'N' at byte 16", 16),
        InvalidCase(#"{"type":"a","n":Infinity}"#, "not valid JSON: expected a value but found 'I' at byte 16", 16),
        InvalidCase(#"{"type":"a","n":0x10}"#, "not valid JSON: expected ',' or '}' but found 'x' at byte 17", 17),
        InvalidCase(#"{"type":"a","n":tru}"#, "not valid JSON: invalid literal at byte 16 (expected 'true')", 16),
        InvalidCase(#"{"type":"a","n":nul"#, "not valid JSON: invalid literal at byte 16 (expected 'null')", 16),
        InvalidCase(#"{"type":"a","n":True}"#, "not valid JSON: expected a value but found 'T' at byte 16", 16),
        InvalidCase(#"{"type":"\x"}"#, "not valid JSON: invalid escape '\\x' at byte 9", 9),
        InvalidCase(#"{"type":"\'"}"#, "not valid JSON: invalid escape '\\'' at byte 9", 9),
        InvalidCase(#"{"type":"\u12G4"}"#, "not valid JSON: invalid \\u escape at byte 9", 9),
        InvalidCase(#"{"type":"\ud800"}"#, "not valid JSON: unpaired surrogate in a \\u escape at byte 9", 9),
        InvalidCase(#"{"type":"\ud800\u0041"}"#, "not valid JSON: unpaired surrogate in a \\u escape at byte 9", 9),
        InvalidCase(#"{"type":"\ud800\n"}"#, "not valid JSON: unpaired surrogate in a \\u escape at byte 9", 9),
        InvalidCase(#"{"type":"\udc00"}"#, "not valid JSON: unpaired surrogate in a \\u escape at byte 9", 9),
        InvalidCase(#"{"type":"\ud83d\ud83d"}"#, "not valid JSON: unpaired surrogate in a \\u escape at byte 9", 9),
        InvalidCase("{\"type\":\"a\u{01}b\"}", "not valid JSON: control character 0x01 inside a string at byte 10", 10),
        InvalidCase("{\"type\":\"a\tb\"}", "not valid JSON: control character 0x09 inside a string at byte 10", 10),
        InvalidCase("{\"type\":\"a\nb\"}", "not valid JSON: control character 0x0A inside a string at byte 10", 10),
        InvalidCase(#"{"type":"a"#, "not valid JSON: unterminated string starting at byte 8", 8),
        InvalidCase(#"{"type":"a\"#, "not valid JSON: unterminated string starting at byte 8", 8),
        InvalidCase(#"{"type":"\u00"#, "not valid JSON: unexpected end of input at byte 13", 13),
        InvalidCase(#"{"type":"a""#, "not valid JSON: expected ',' or '}' but found the end of the line at byte 11", 11),
        InvalidCase(#"{"type":"a","#, "not valid JSON: expected a string key but found the end of the line at byte 12", 12),
        InvalidCase(#"{"type":"#, "not valid JSON: expected a value but found the end of the line at byte 8", 8),
        InvalidCase(#"{"type""#, "not valid JSON: expected ':' after the key but found the end of the line at byte 7", 7),
        InvalidCase(#"{"type" "a"}"#, "not valid JSON: expected ':' after the key but found '\"' at byte 8", 8),
        InvalidCase("{", "not valid JSON: expected a string key or '}' but found the end of the line at byte 1", 1),
        InvalidCase(#"{"type":"a","l":[1 2]}"#, "not valid JSON: expected ',' or ']' but found '2' at byte 19", 19),
        InvalidCase(#"{"type":"a","l":[1}"#, "not valid JSON: expected ',' or ']' but found '}' at byte 18", 18),
        InvalidCase(#"{"type":"a"]"#, "not valid JSON: expected ',' or '}' but found ']' at byte 11", 11),
        InvalidCase(#"{"type":"a"} {}"#, "not valid JSON: unexpected '{' after the end of the value at byte 13", 13),
        InvalidCase(#"{"type":"a"}}"#, "not valid JSON: unexpected '}' after the end of the value at byte 12", 12),
        InvalidCase(#"{"type":"a"} // note"#, "not valid JSON: unexpected '/' after the end of the value at byte 13", 13),
        InvalidCase(#"{/* c */"type":"a"}"#, "not valid JSON: expected a string key or '}' but found '/' at byte 1", 1),
        InvalidCase(#"{"type":"a"}#"#, "not valid JSON: unexpected '#' after the end of the value at byte 12", 12),
        InvalidCase("\u{FEFF}{\"type\":\"a\"}", "not valid JSON: expected a value but found a byte order mark (U+FEFF) at byte 0", 0),
        InvalidCase("\u{A0}{\"type\":\"a\"}", "not valid JSON: expected a value but found U+00A0 at byte 0", 0),
        InvalidCase("\u{0B}{\"type\":\"a\"}", "not valid JSON: expected a value but found byte 0x0B at byte 0", 0),
        InvalidCase("{\"type\":\"a\"}\u{0C}", "not valid JSON: unexpected byte 0x0C after the end of the value at byte 12", 12),
        InvalidCase(bytes: [0x7B, 0x00, 0x7D], "not valid JSON: expected a string key or '}' but found byte 0x00 at byte 1", 1),
        // Bad UTF-8, inside and outside strings.
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xC0, 0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xC1, 0xBF] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xE0, 0x80, 0xAF] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xF0, 0x80, 0x80, 0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":""#.utf8) + [0xF5, 0x80, 0x80, 0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 9", 9),
        InvalidCase(bytes: Array(#"{"type":"ab"#.utf8) + [0x80] + Array(#""}"#.utf8), "not valid UTF-8 at byte 11", 11),
        InvalidCase(bytes: Array(#"{"type":"a"#.utf8) + [0xE2, 0x82] + Array(#""}"#.utf8), "not valid UTF-8 at byte 10", 10),
        InvalidCase(bytes: Array(#"{"type":"a"#.utf8) + [0xE2, 0x82], "not valid UTF-8 at byte 10", 10),
        InvalidCase(bytes: Array(#"{"type":"a"#.utf8) + [0xF0, 0x9F, 0x98], "not valid UTF-8 at byte 10", 10),
        InvalidCase(bytes: Array(#"{"type":"a"#.utf8) + [0xFF] + Array(#""}"#.utf8), "not valid UTF-8 at byte 10", 10),
        InvalidCase(bytes: Array(#"{"type":"a"}"#.utf8) + [0xFF], "not valid UTF-8 at byte 12", 12),
        InvalidCase(bytes: [0x7B, 0x80, 0x7D], "not valid UTF-8 at byte 1", 1),
        InvalidCase(bytes: [0xE2, 0x82], "not valid UTF-8 at byte 0", 0),
        // Field rules.
        InvalidCase("{}", "missing field 'type'", 0),
        InvalidCase(#" {"id":"x","data":{"type":"nested"}}"#, "missing field 'type'", 1),
        InvalidCase(#"{"type":""}"#, "field 'type' must not be empty", 8),
        InvalidCase(#"{"type":1}"#, "field 'type' must be a string", 8),
        InvalidCase(#"{"type":null}"#, "field 'type' must be a string", 8),
        InvalidCase(#"{"type":{"a":"b"}}"#, "field 'type' must be a string", 8),
        InvalidCase(#"{"type":["a"]}"#, "field 'type' must be a string", 8),
        InvalidCase(#"{"type":"a","id":5}"#, "field 'id' must be a string", 17),
        InvalidCase(#"{"type":"a","id":""}"#, "field 'id' must not be empty", 17),
        InvalidCase(#"{"type":"a","timestamp":1700000000}"#, "field 'timestamp' must be a string", 24),
        InvalidCase(#"{"type":"a","timestamp":""}"#, "field 'timestamp' must not be empty", 24),
        InvalidCase(#"{"type":"a","type":"b"}"#, "duplicate field 'type'", 12),
        InvalidCase(#"{"type":"a","typ\u0065":"b"}"#, "duplicate field 'type'", 12),
        InvalidCase(#"{"type":"a","id":"1","id":"1"}"#, "duplicate field 'id'", 21),
        InvalidCase(#"{"type":"a","timestamp":"t","timestamp":"t"}"#, "duplicate field 'timestamp'", 28),
        InvalidCase(#"{"type":"a","data":1,"data":2}"#, "duplicate field 'data'", 21),
        // A syntax error wins over a field rule broken earlier in the line.
        InvalidCase(#"{"type":1,"x":tru}"#, "not valid JSON: invalid literal at byte 14 (expected 'true')", 14),
    ])
    func rejectsInvalid(_ invalid: InvalidCase) {
        guard let error = failure(invalid.bytes) else { return }
        #expect(error.reason == invalid.reason)
        #expect(error.offset == invalid.offset)
        #expect(error.reason.utf8.count < 120)
    }

    // MARK: Nesting

    @Test func depthBeyondTheLimitIsAnErrorNotACrash() {
        let opening = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        #expect(failure(opening) == EventLineError(
            reason: "not valid JSON: nesting deeper than 512 levels at byte 512", offset: 512))
        let balanced = opening + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(failure(balanced)?.offset == 512)
        let inObject = Array(#"{"type":"t","data":"#.utf8) + opening
        #expect(failure(inObject)?.reason == "not valid JSON: nesting deeper than 512 levels at byte 530")
        let objects = Array(String(repeating: #"{"a":"#, count: 100_000).utf8)
        #expect(failure(objects)?.offset == 512 * 5)
        let justOver = "{\"type\":\"t\",\"data\":" + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}"
        #expect(failure(Array(justOver.utf8))?.offset == 19 + 511)
    }

    // MARK: Agreement with JSONSerialization

    /// Whether Foundation's JSONSerialization (no fragments) reads the bytes as a JSON object.
    private static func foundationAccepts(_ bytes: [UInt8]) -> Bool {
        guard let value = try? JSONSerialization.jsonObject(with: Data(bytes), options: []) else { return false }
        return value is [String: Any]
    }

    /// Whether EventLineParser reads the bytes as a JSON object (whatever it then says about the fields).
    private static func parserAccepts(_ bytes: [UInt8]) -> Bool {
        // An exactly sized buffer, so that a read past the end shows under `swift test --sanitize=address`.
        let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { exact.deallocate() }
        exact.copyBytes(from: bytes)
        switch EventLineParser.parse(UnsafeRawBufferPointer(exact)) {
        case .success: return true
        case .failure(let error): return !isSyntaxError(error)
        }
    }

    /// Inputs where the two legitimately disagree; each is excluded from the comparison with its reason.
    private static func knownDifference(_ bytes: [UInt8]) -> String? {
        // RFC 8259 lets a reader limit the range of numbers; JSONSerialization refuses any number that
        // overflows a Double (1e400), while the parser follows the grammar and lets it travel unchanged.
        if parserAccepts(bytes) && hasNumberBeyondDouble(bytes) {
            return "number beyond Double range"
        }
        // JSONSerialization skips a leading byte order mark; RFC 8259 lets a reader ignore it, but the
        // spool format is strict and rejects it with a reason naming it. Without it the two must agree.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            #expect(parserAccepts(Array(bytes.dropFirst(3))) == foundationAccepts(bytes), "«\(String(decoding: bytes, as: UTF8.self))»")
            return "byte order mark"
        }
        guard case .failure(let error) = EventLineParser.parse(bytes) else { return nil }
        // JSONSerialization accepts a comma before '}' or ']'; RFC 8259 does not. Without that comma
        // the two must agree again, so the rest of such a line is still compared.
        if error.reason.hasPrefix("not valid JSON: trailing comma") {
            var withoutComma = bytes
            withoutComma.remove(at: error.offset)
            #expect(parserAccepts(withoutComma) == foundationAccepts(bytes), "«\(String(decoding: bytes, as: UTF8.self))»")
            return "trailing comma"
        }
        return nil
    }

    /// Whether some run of number characters in the text reads as a Double too large for it.
    private static func hasNumberBeyondDouble(_ bytes: [UInt8]) -> Bool {
        let numberBytes = Set("-+.eE0123456789".utf8)
        var run: [UInt8] = []
        for b in bytes + [0x20] {
            if numberBytes.contains(b) {
                run.append(b)
            } else {
                if let value = Double(String(decoding: run, as: UTF8.self)), value.isInfinite { return true }
                run.removeAll()
            }
        }
        return false
    }

    /// Hand-listed inputs at the edges of the grammar.
    private static let handListed: [String] = [
        "{}", "{ }", "[]", "[{}]", "\"s\"", "1", "null", "", " ", "{\"a\":1}", "{\"a\":1,}", "{,}", "{\"a\"}",
        "{\"a\":}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[1,,2]}",
        "{\"a\":01}", "{\"a\":-0}", "{\"a\":-}", "{\"a\":1.}", "{\"a\":.1}", "{\"a\":1e}", "{\"a\":1e+}", "{\"a\":1E-7}",
        "{\"a\":+1}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":0x1}", "{\"a\":1_000}",
        "{\"a\":tru}", "{\"a\":truex}", "{\"a\":nulls}", "{\"a\":TRUE}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\uD83D\\uDE00\"}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\/\"}", "{\"a\":\"\\'\"}", "{'a':1}",
        "{a:1}", "{\"a\":'b'}", "{\"a\":1} x", "{\"a\":1}{}", "{\"a\":1}\n", "\n{\"a\":1}", "\t{\"a\":1}\r",
        "{\"a\":1}//c", "/*c*/{\"a\":1}", "{\"a\":[[[[]]]]}", "{\"a\":{\"b\":{\"c\":{}}}}", "{\"a\":[}", "{\"a\":{]}",
        "{\"a\":\"é日🚀\"}", "{\"é\":1}", "{\"\":\"\"}", "{\"a\":1.5e300}", "{\"a\":-0.0e-0}", "{\"a\":0e0}",
        "{\"a\":00}", "{\"a\":-01.5}", "{\"a\":1.5.5}", "{\"a\":1e5e5}", "{\"a\":--1}", "{\"a\":\"\\\"\"}",
        "{\"a\":\"\\\\\"}", "{\"a\":\"\\\"}", "{\"a\":\"a\\", "{\"a\":\"\u{7F}\"}", "{\"a\":true,\"b\":false,\"c\":null}",
        "{\"a\":[true false]}", "{\"a\"::1}", "{\"a\":1:}", "{{}}", "{[]}", "{\"a\":{}}}", "{\"a\":[]]}",
        "{\"type\":1}", "{\"type\":\"a\",\"type\":\"b\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\\ud800\"}",
        "{\"a\":\"\\ud800x\"}", "{\"a\":1e400}", "{\"a\":-1e400}", "{\"a\":1e-400}", "{\"a\":123456789012345678901234567890}",
        "\u{FEFF}{\"a\":1}", "{\u{0C}\"a\":1}", "{\u{0B}\"a\":1}", "{\u{A0}\"a\":1}", "{\"a\":\"\u{01}\"}", "{\"a\":\"\u{1F}\"}",
        "{\"a\":\"\t\"}", "{\"a\":\"\u{0}\"}", "{\"a\":1}\u{0}", "{\"a\":1,\"a\":2}", "{\"a\":[1]]}", "{\"a\":\"\\b\\f\\n\\r\\t\"}", "{\"a\":\"\\u0000\"}",
    ]

    /// A random JSON value, at most `depth` levels deep.
    private static func randomValue(_ rng: inout SeededGenerator, depth: Int) -> String {
        let pick = depth > 0 ? Int.random(in: 0..<9, using: &rng) : Int.random(in: 0..<6, using: &rng)
        switch pick {
        case 0: return randomString(&rng)
        case 1: return randomNumber(&rng)
        case 2: return ["true", "false", "null"][Int.random(in: 0..<3, using: &rng)]
        case 3, 4, 5: return randomString(&rng)
        case 6, 7: return randomObject(&rng, depth: depth - 1)
        default:
            let items = (0..<Int.random(in: 0..<4, using: &rng)).map { _ in randomValue(&rng, depth: depth - 1) }
            return "[" + items.map { randomSpace(&rng) + $0 + randomSpace(&rng) }.joined(separator: ",") + "]"
        }
    }

    /// A random JSON object.
    private static func randomObject(_ rng: inout SeededGenerator, depth: Int) -> String {
        let members = (0..<Int.random(in: 0..<5, using: &rng)).map { _ in
            randomSpace(&rng) + randomString(&rng) + randomSpace(&rng) + ":" + randomSpace(&rng)
                + randomValue(&rng, depth: depth) + randomSpace(&rng)
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// Random JSON whitespace, usually none.
    private static func randomSpace(_ rng: inout SeededGenerator) -> String {
        Int.random(in: 0..<4, using: &rng) == 0 ? [" ", "\t", "\r\n", "  "][Int.random(in: 0..<4, using: &rng)] : ""
    }

    /// A random JSON string with escapes and multi-byte characters.
    private static func randomString(_ rng: inout SeededGenerator) -> String {
        let pieces = ["a", "type", "id", "data", "é", "日本", "🚀", "\\n", "\\\"", "\\\\", "\\/", "\\u00e9", "\\ud83d\\ude00",
                      "\\t", " ", "x y", "\u{7F}", "\\u0000", "0", "{", "]", ":", ","]
        let count = Int.random(in: 0..<6, using: &rng)
        return "\"" + (0..<count).map { _ in pieces[Int.random(in: 0..<pieces.count, using: &rng)] }.joined() + "\""
    }

    /// A random number by the JSON grammar.
    private static func randomNumber(_ rng: inout SeededGenerator) -> String {
        var text = Bool.random(using: &rng) ? "-" : ""
        text += Bool.random(using: &rng) ? "0" : String(Int.random(in: 1...99999, using: &rng))
        if Bool.random(using: &rng) { text += "." + String(Int.random(in: 0...999, using: &rng)) }
        if Int.random(in: 0..<3, using: &rng) == 0 {
            text += ["e", "E", "e+", "e-", "E-"][Int.random(in: 0..<5, using: &rng)] + String(Int.random(in: 0...30, using: &rng))
        }
        return text
    }

    /// One random edit of a line: delete, insert, replace, truncate or duplicate.
    private static func mutate(_ bytes: [UInt8], _ rng: inout SeededGenerator) -> [UInt8] {
        let alphabet: [UInt8] = Array("{}[],:\"\\ 0123456789eE.-+tfnul/ax".utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        guard !bytes.isEmpty else { return [alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]] }
        var out = bytes
        let at = Int.random(in: 0..<bytes.count, using: &rng)
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: out.remove(at: at)
        case 1: out.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &rng)], at: at)
        case 2: out[at] = alphabet[Int.random(in: 0..<alphabet.count, using: &rng)]
        case 3: out = Array(bytes[..<at])
        default:
            let end = min(bytes.count, at + Int.random(in: 1...4, using: &rng))
            out.insert(contentsOf: bytes[at..<end], at: at)
        }
        return out
    }

    @Test func validityAgreesWithJSONSerialization() {
        var rng = SeededGenerator(seed: 0x486F_6F6B_5370_6F6F)
        var inputs: [[UInt8]] = Self.handListed.map { Array($0.utf8) }
        var generated: [[UInt8]] = []
        for _ in 0..<250 {
            generated.append(Array(Self.randomObject(&rng, depth: 3).utf8))
        }
        inputs += generated
        // Both stop at 512 levels of nesting, the top-level object included.
        for depth in [511, 512, 513, 514, 2000] {
            let arrays = String(repeating: "[", count: depth - 1) + String(repeating: "]", count: depth - 1)
            inputs.append(Array("{\"a\":\(arrays)}".utf8))
        }
        for _ in 0..<900 {
            let source = generated[Int.random(in: 0..<generated.count, using: &rng)]
            var mutated = Self.mutate(source, &rng)
            if Bool.random(using: &rng) { mutated = Self.mutate(mutated, &rng) }
            inputs.append(mutated)
        }
        var compared = 0
        var valid = 0
        var excluded: [String: Int] = [:]
        for input in inputs {
            if let reason = Self.knownDifference(input) {
                excluded[reason, default: 0] += 1
                continue
            }
            compared += 1
            let ours = Self.parserAccepts(input)
            if ours { valid += 1 }
            let theirs = Self.foundationAccepts(input)
            #expect(ours == theirs, "disagree on \(input.map { String($0, radix: 16) }.joined(separator: " ")) «\(String(decoding: input, as: UTF8.self))»")
        }
        print("differential: \(compared) compared (\(valid) valid, \(compared - valid) invalid), excluded \(excluded)")
        #expect(compared > 1200)
        #expect(valid > 300 && compared - valid > 300)
    }

    // MARK: Throughput

    @Test func throughputIsPrinted() {
        // Measures only; a timing assertion would be flaky. Run `swift test -c release` for real figures.
        let line = Array((#"{"type":"order.created","id":"evt_01HZX3","timestamp":"2025-03-14T09:26:53.589Z","#
            + #""data":{"order_id":"ord_1","customer":{"id":"cus_9","email":"jane.doe@example.com","name":"Jöhn Dœ \u00e9","#
            + #""vip":true},"items":[{"sku":"SKU-1","qty":2,"price":19.99,"tags":["red","large"]},{"sku":"SKU-13","qty":1,"#
            + #""price":5.5e2,"discount":null}],"total":-1234.50,"currency":"EUR","shipping":{"method":"express","#
            + #""address":"Rue de la Paix 1, 75002 Paris"},"notes":"Leave at the door, ring twice 🚪"}}"#).utf8)
        #expect(EventLineParser.parse(line).map(\.type) == .success("order.created"))
        let repetitions = 20_000
        let clock = ContinuousClock()
        var checksum = 0
        let elapsed = clock.measure {
            line.withUnsafeBytes { raw in
                for _ in 0..<repetitions {
                    if case .success(let fields) = EventLineParser.parse(raw) { checksum &+= fields.objectEnd }
                }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let megabytesPerSecond = Double(line.count * repetitions) / seconds / 1_000_000
        print("EventLineParser: \(line.count)-byte lines, \(Int(megabytesPerSecond)) MB/s, \(Int(Double(repetitions) / seconds)) lines/s")
        #expect(checksum == (line.count - 1) * repetitions)
    }
}
