/// A single-pass, non-recursive scanner that validates one line and records its top-level event fields.
// The first problem met from left to right is the one reported, except that the rules about the
// event fields (`type`, `id`, …) are checked only once the whole line is known to be valid JSON.
struct EventLineScanner {
    /// The top-level keys the scanner records.
    private enum Field: Int {
        case type = 0, id, timestamp, data

        /// The key as written in the reasons.
        var name: String {
            switch self {
            case .type: "type"
            case .id: "id"
            case .timestamp: "timestamp"
            case .data: "data"
            }
        }
    }

    /// Where a string's content (between its quotes) lies, and whether it holds escapes.
    private struct StringSpan {
        var start: Int
        var end: Int
        var escaped: Bool
    }

    private let base: UnsafeRawPointer
    private let count: Int
    private let maximumDepth: Int
    private var index = 0

    /// How many objects and arrays enclose the current position.
    private var depth = 0
    /// Bit `d` is set when the container at depth `d + 1` is an object (depths 1 to 64).
    private var lowKinds: UInt64 = 0
    /// The same bits for depths beyond 64, allocated only for lines that nest that deep.
    private var highKinds: [UInt64] = []

    /// The top-level key whose value comes next, if it is one of the recorded fields.
    private var pendingField: Field?
    private var typeSpan: StringSpan?
    private var idSpan: StringSpan?
    private var timestampSpan: StringSpan?
    /// Bit `Field.rawValue` is set once that top-level key has been seen.
    private var seenFields: UInt8 = 0
    /// The first field rule broken, reported only if the line turns out to be valid JSON.
    private var fieldError: EventLineError?

    /// Prepares to scan `count` bytes at `base`.
    init(base: UnsafeRawPointer, count: Int, maximumDepth: Int) {
        self.base = base
        self.count = count
        self.maximumDepth = maximumDepth
    }

    // MARK: The line

    /// Scans the whole line and returns its fields, or the first problem found.
    mutating func scanLine() throws(EventLineError) -> EventLineFields {
        skipWhitespace()
        guard index < count else {
            throw EventLineError(reason: "not valid JSON: the line holds only whitespace", offset: 0)
        }
        let valueStart = index
        let first = byte(at: index)
        try scanValue()
        let valueEnd = index
        skipWhitespace()
        if index < count {
            throw unexpected(at: index, context: "after the end of the value")
        }
        guard first == ASCII.openBrace else {
            let kind: String
            switch first {
            case ASCII.openBracket: kind = "an array"
            case ASCII.quote: kind = "a string"
            case ASCII.letterT, ASCII.letterF: kind = "a boolean"
            case ASCII.letterN: kind = "null"
            default: kind = "a number"
            }
            throw EventLineError(reason: "not a JSON object (found \(kind))", offset: valueStart)
        }
        if let fieldError { throw fieldError }
        guard let typeSpan else {
            throw EventLineError(reason: "missing field 'type'", offset: valueStart)
        }
        if typeSpan.start == typeSpan.end {
            throw EventLineError(reason: "field 'type' must not be empty", offset: typeSpan.start - 1)
        }
        if let idSpan, idSpan.start == idSpan.end {
            throw EventLineError(reason: "field 'id' must not be empty", offset: idSpan.start - 1)
        }
        if let timestampSpan, timestampSpan.start == timestampSpan.end {
            throw EventLineError(reason: "field 'timestamp' must not be empty", offset: timestampSpan.start - 1)
        }
        return EventLineFields(
            type: decodeString(typeSpan),
            id: idSpan.map { decodeString($0) },
            timestamp: timestampSpan.map { decodeString($0) },
            hasData: seenFields & (1 << Field.data.rawValue) != 0,
            objectStart: valueStart,
            objectEnd: valueEnd - 1
        )
    }

    /// Scans one complete value starting at `index` (no whitespace before it), nesting included.
    private mutating func scanValue() throws(EventLineError) {
        var expectingValue = true
        while true {
            if expectingValue {
                guard index < count else { throw expected("a value", at: index) }
                let b = byte(at: index)
                var stringField: Field?
                if let field = pendingField {
                    // Only a top-level key sets it, so this is the value of a recorded top-level field.
                    pendingField = nil
                    if field != .data {
                        if b == ASCII.quote {
                            stringField = field
                        } else {
                            recordFieldError("field '\(field.name)' must be a string", at: index)
                        }
                    }
                }
                switch b {
                case ASCII.openBrace:
                    try push(isObject: true)
                    index += 1
                    skipWhitespace()
                    if index < count && byte(at: index) == ASCII.closeBrace {
                        index += 1
                        depth -= 1
                    } else if index < count && byte(at: index) == ASCII.quote {
                        try scanKeyAndColon()
                        continue
                    } else {
                        throw expected("a string key or '}'", at: index)
                    }
                case ASCII.openBracket:
                    try push(isObject: false)
                    index += 1
                    skipWhitespace()
                    if index < count && byte(at: index) == ASCII.closeBracket {
                        index += 1
                        depth -= 1
                    } else {
                        continue
                    }
                case ASCII.quote:
                    let span = try scanString()
                    if let stringField { record(span, for: stringField) }
                case ASCII.minus, ASCII.zero...ASCII.nine:
                    try scanNumber()
                case ASCII.letterT:
                    try scanLiteral(0x6575_7274, length: 4, name: "true")
                case ASCII.letterF:
                    try scanLiteral(0x65_736C_6166, length: 5, name: "false")
                case ASCII.letterN:
                    try scanLiteral(0x6C6C_756E, length: 4, name: "null")
                default:
                    throw expected("a value", at: index)
                }
                expectingValue = false
            }
            // After a value: close containers or move to the next member or element.
            if depth == 0 { return }
            skipWhitespace()
            let inObject = currentIsObject
            guard index < count else {
                throw expected(inObject ? "',' or '}'" : "',' or ']'", at: index)
            }
            let b = byte(at: index)
            if b == ASCII.comma {
                let comma = index
                index += 1
                skipWhitespace()
                if index < count {
                    let next = byte(at: index)
                    if next == ASCII.closeBrace || next == ASCII.closeBracket {
                        throw EventLineError(reason: "not valid JSON: trailing comma at byte \(comma)", offset: comma)
                    }
                }
                if inObject {
                    guard index < count && byte(at: index) == ASCII.quote else {
                        throw expected("a string key", at: index)
                    }
                    try scanKeyAndColon()
                }
                expectingValue = true
            } else if b == (inObject ? ASCII.closeBrace : ASCII.closeBracket) {
                index += 1
                depth -= 1
            } else {
                throw expected(inObject ? "',' or '}'" : "',' or ']'", at: index)
            }
        }
    }

    /// Scans an object key (its quote is at `index`), the colon and the whitespace up to the value.
    private mutating func scanKeyAndColon() throws(EventLineError) {
        let keyStart = index
        let span = try scanString()
        if depth == 1, let field = topLevelField(span) {
            let bit: UInt8 = 1 << UInt8(field.rawValue)
            if seenFields & bit != 0 {
                recordFieldError("duplicate field '\(field.name)'", at: keyStart)
            }
            seenFields |= bit
            pendingField = field
        }
        skipWhitespace()
        guard index < count && byte(at: index) == ASCII.colon else {
            throw expected("':' after the key", at: index)
        }
        index += 1
        skipWhitespace()
    }

    // MARK: Nesting

    /// Enters an object or array, failing beyond the depth limit.
    private mutating func push(isObject: Bool) throws(EventLineError) {
        guard depth < maximumDepth else {
            throw EventLineError(
                reason: "not valid JSON: nesting deeper than \(maximumDepth) levels at byte \(index)",
                offset: index
            )
        }
        let level = depth
        if level < 64 {
            let bit: UInt64 = 1 << UInt64(level)
            if isObject { lowKinds |= bit } else { lowKinds &= ~bit }
        } else {
            let word = (level - 64) >> 6
            let bit: UInt64 = 1 << UInt64((level - 64) & 63)
            while highKinds.count <= word { highKinds.append(0) }
            if isObject { highKinds[word] |= bit } else { highKinds[word] &= ~bit }
        }
        depth += 1
    }

    /// Whether the innermost open container is an object.
    private var currentIsObject: Bool {
        let level = depth - 1
        if level < 64 { return (lowKinds >> UInt64(level)) & 1 == 1 }
        let word = (level - 64) >> 6
        return (highKinds[word] >> UInt64((level - 64) & 63)) & 1 == 1
    }

    // MARK: Scalars

    /// Scans a string whose opening quote is at `index`, leaving `index` after the closing quote.
    private mutating func scanString() throws(EventLineError) -> StringSpan {
        let quote = index
        index += 1
        let start = index
        var escaped = false
        while true {
            // Eight bytes at a time while none of them needs a look.
            while index &+ 8 <= count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                let special = Self.specialBytes(word)
                if special == 0 {
                    index &+= 8
                } else {
                    index &+= special.trailingZeroBitCount >> 3
                    break
                }
            }
            guard index < count else {
                throw EventLineError(reason: "not valid JSON: unterminated string starting at byte \(quote)", offset: quote)
            }
            let b = byte(at: index)
            if b == ASCII.quote {
                index += 1
                return StringSpan(start: start, end: index - 1, escaped: escaped)
            } else if b == ASCII.backslash {
                escaped = true
                try scanEscape(stringStart: quote)
            } else if b >= 0x80 {
                guard let length = utf8SequenceLength(at: index) else { throw invalidUTF8(at: index) }
                index += length
            } else if b < 0x20 {
                throw EventLineError(
                    reason: "not valid JSON: control character \(Self.hex(b)) inside a string at byte \(index)",
                    offset: index
                )
            } else {
                index += 1
            }
        }
    }

    /// Flags (high bit of each byte) the bytes of `word` that are '"', '\\', below 0x20 or above 0x7F.
    // False positives can only appear above a true one (borrows run upwards), so the lowest flag is exact.
    @inline(__always)
    private static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let quoteZero = (quotes &- ones) & ~quotes
        let backslashZero = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (quoteZero | backslashZero | control | word) & highs
    }

    /// Scans one escape whose backslash is at `index`.
    private mutating func scanEscape(stringStart: Int) throws(EventLineError) {
        let backslash = index
        guard index + 1 < count else {
            throw EventLineError(
                reason: "not valid JSON: unterminated string starting at byte \(stringStart)",
                offset: stringStart
            )
        }
        switch byte(at: index + 1) {
        case ASCII.quote, ASCII.backslash, ASCII.slash,
             ASCII.letterB, ASCII.letterF, ASCII.letterN, ASCII.letterR, ASCII.letterT:
            index += 2
        case ASCII.letterU:
            let unit = try hex4(at: backslash + 2, escapeAt: backslash)
            index += 6
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 1 < count && byte(at: index) == ASCII.backslash && byte(at: index + 1) == ASCII.letterU else {
                    throw unpairedSurrogate(at: backslash)
                }
                let low = try hex4(at: index + 2, escapeAt: index)
                guard (0xDC00...0xDFFF).contains(low) else { throw unpairedSurrogate(at: backslash) }
                index += 6
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw unpairedSurrogate(at: backslash)
            }
        default:
            let next = byte(at: index + 1)
            let shown = (0x21...0x7E).contains(next) ? " '\\\(Character(Unicode.Scalar(next)))'" : ""
            throw EventLineError(reason: "not valid JSON: invalid escape\(shown) at byte \(backslash)", offset: backslash)
        }
    }

    /// Reads the four hex digits of a `\u` escape starting at `position`.
    private func hex4(at position: Int, escapeAt backslash: Int) throws(EventLineError) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let at = position + offset
            guard at < count else {
                throw EventLineError(reason: "not valid JSON: unexpected end of input at byte \(count)", offset: count)
            }
            guard let digit = Self.hexValue(byte(at: at)) else {
                throw EventLineError(reason: "not valid JSON: invalid \\u escape at byte \(backslash)", offset: backslash)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Scans a number starting at `index` by the RFC 8259 grammar.
    private mutating func scanNumber() throws(EventLineError) {
        if byte(at: index) == ASCII.minus { index += 1 }
        guard index < count else { throw expected("a digit after '-'", at: index) }
        let lead = byte(at: index)
        if lead == ASCII.zero {
            index += 1
            if index < count && Self.isDigit(byte(at: index)) {
                throw EventLineError(reason: "not valid JSON: leading zero in a number at byte \(index - 1)", offset: index - 1)
            }
        } else if Self.isDigit(lead) {
            index += 1
            skipDigits()
        } else {
            throw expected("a digit after '-'", at: index)
        }
        if index < count && byte(at: index) == ASCII.dot {
            index += 1
            guard index < count && Self.isDigit(byte(at: index)) else { throw expected("a digit after '.'", at: index) }
            skipDigits()
        }
        if index < count && (byte(at: index) | 0x20) == ASCII.letterE {
            index += 1
            if index < count && (byte(at: index) == ASCII.plus || byte(at: index) == ASCII.minus) { index += 1 }
            guard index < count && Self.isDigit(byte(at: index)) else { throw expected("a digit in the exponent", at: index) }
            skipDigits()
        }
    }

    /// Scans `true`, `false` or `null`, given as its bytes packed little-endian into `word`.
    private mutating func scanLiteral(_ word: UInt64, length: Int, name: String) throws(EventLineError) {
        for offset in 0..<length {
            let expectedByte = UInt8(truncatingIfNeeded: word >> UInt64(offset * 8))
            guard index + offset < count && byte(at: index + offset) == expectedByte else {
                throw EventLineError(reason: "not valid JSON: invalid literal at byte \(index) (expected '\(name)')", offset: index)
            }
        }
        index += length
    }

    // MARK: Bytes

    /// The byte at `position`, which the caller has checked is below `count`.
    @inline(__always)
    private func byte(at position: Int) -> UInt8 {
        base.load(fromByteOffset: position, as: UInt8.self)
    }

    /// Moves `index` past spaces, tabs, carriage returns and line feeds.
    @inline(__always)
    private mutating func skipWhitespace() {
        while index < count {
            let b = byte(at: index)
            guard b == ASCII.space || b == ASCII.lineFeed || b == ASCII.carriageReturn || b == ASCII.tab else { return }
            index += 1
        }
    }

    /// Moves `index` past decimal digits.
    @inline(__always)
    private mutating func skipDigits() {
        while index < count && Self.isDigit(byte(at: index)) { index += 1 }
    }

    /// The length of the well-formed UTF-8 sequence starting at `position` (lead byte ≥ 0x80), or nil.
    private func utf8SequenceLength(at position: Int) -> Int? {
        let lead = byte(at: position)
        var length = 0
        var low: UInt8 = 0x80
        var high: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return nil
        }
        guard position + length <= count else { return nil }
        let second = byte(at: position + 1)
        guard second >= low && second <= high else { return nil }
        for offset in 2..<length where byte(at: position + offset) & 0xC0 != 0x80 {
            return nil
        }
        return length
    }

    // MARK: Fields

    /// Which recorded field a top-level key names, if any (escaped keys are decoded first).
    private func topLevelField(_ span: StringSpan) -> Field? {
        if span.escaped {
            switch decodeBytes(span) {
            case Array("type".utf8): return .type
            case Array("id".utf8): return .id
            case Array("timestamp".utf8): return .timestamp
            case Array("data".utf8): return .data
            default: return nil
            }
        }
        switch span.end - span.start {
        case 2:
            return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: span.start, as: UInt16.self)) == 0x6469 ? .id : nil
        case 4:
            let word = UInt32(littleEndian: base.loadUnaligned(fromByteOffset: span.start, as: UInt32.self))
            if word == 0x6570_7974 { return .type }
            if word == 0x6174_6164 { return .data }
            return nil
        case 9:
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: span.start, as: UInt64.self))
            return word == 0x6D61_7473_656D_6974 && byte(at: span.start + 8) == 0x70 ? .timestamp : nil
        default:
            return nil
        }
    }

    /// Records the string value of a top-level field.
    private mutating func record(_ span: StringSpan, for field: Field) {
        switch field {
        case .type: typeSpan = span
        case .id: idSpan = span
        case .timestamp: timestampSpan = span
        case .data: break
        }
    }

    /// Keeps the first broken field rule.
    private mutating func recordFieldError(_ reason: String, at offset: Int) {
        if fieldError == nil { fieldError = EventLineError(reason: reason, offset: offset) }
    }

    /// The decoded text of a validated string.
    private func decodeString(_ span: StringSpan) -> String {
        if !span.escaped {
            return String(decoding: UnsafeRawBufferPointer(start: base + span.start, count: span.end - span.start), as: UTF8.self)
        }
        return String(decoding: decodeBytes(span), as: UTF8.self)
    }

    /// The UTF-8 bytes of a validated string with its escapes decoded.
    private func decodeBytes(_ span: StringSpan) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(span.end - span.start)
        var position = span.start
        while position < span.end {
            let b = byte(at: position)
            guard b == ASCII.backslash else {
                out.append(b)
                position += 1
                continue
            }
            let kind = byte(at: position + 1)
            position += 2
            switch kind {
            case ASCII.letterB: out.append(0x08)
            case ASCII.letterF: out.append(0x0C)
            case ASCII.letterN: out.append(0x0A)
            case ASCII.letterR: out.append(0x0D)
            case ASCII.letterT: out.append(0x09)
            case ASCII.letterU:
                var scalar = hexUnit(at: position)
                position += 4
                if (0xD800...0xDBFF).contains(scalar) {
                    let low = hexUnit(at: position + 2)
                    position += 6
                    scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                }
                Self.appendUTF8(scalar, to: &out)
            default: out.append(kind)
            }
        }
        return out
    }

    /// The value of four hex digits already validated by the scan.
    private func hexUnit(at position: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 {
            value = value << 4 | UInt32(Self.hexValue(byte(at: position + offset)) ?? 0)
        }
        return value
    }

    /// Appends the UTF-8 encoding of a scalar value (validated by the scan, so never a surrogate).
    private static func appendUTF8(_ value: UInt32, to out: inout [UInt8]) {
        switch value {
        case 0..<0x80:
            out.append(UInt8(value))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | value >> 6))
            out.append(UInt8(0x80 | value & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | value >> 12))
            out.append(UInt8(0x80 | (value >> 6) & 0x3F))
            out.append(UInt8(0x80 | value & 0x3F))
        default:
            out.append(UInt8(0xF0 | (value >> 18) & 0x07))
            out.append(UInt8(0x80 | (value >> 12) & 0x3F))
            out.append(UInt8(0x80 | (value >> 6) & 0x3F))
            out.append(UInt8(0x80 | value & 0x3F))
        }
    }

    // MARK: Errors

    /// "expected X but found Y at byte N", or the UTF-8 error if the byte found starts bad UTF-8.
    private func expected(_ what: String, at position: Int) -> EventLineError {
        if position >= count {
            return EventLineError(
                reason: "not valid JSON: expected \(what) but found the end of the line at byte \(position)",
                offset: position
            )
        }
        if byte(at: position) >= 0x80 && utf8SequenceLength(at: position) == nil { return invalidUTF8(at: position) }
        return EventLineError(
            reason: "not valid JSON: expected \(what) but found \(describe(at: position)) at byte \(position)",
            offset: position
        )
    }

    /// "unexpected Y <context> at byte N", or the UTF-8 error if the byte starts bad UTF-8.
    private func unexpected(at position: Int, context: String) -> EventLineError {
        if byte(at: position) >= 0x80 && utf8SequenceLength(at: position) == nil { return invalidUTF8(at: position) }
        return EventLineError(
            reason: "not valid JSON: unexpected \(describe(at: position)) \(context) at byte \(position)",
            offset: position
        )
    }

    /// The bad UTF-8 error.
    private func invalidUTF8(at position: Int) -> EventLineError {
        EventLineError(reason: "not valid UTF-8 at byte \(position)", offset: position)
    }

    /// The unpaired surrogate error.
    private func unpairedSurrogate(at position: Int) -> EventLineError {
        EventLineError(reason: "not valid JSON: unpaired surrogate in a \\u escape at byte \(position)", offset: position)
    }

    /// One character of the line for a reason: 'x', a hex byte, or U+XXXX (at most one character).
    private func describe(at position: Int) -> String {
        let b = byte(at: position)
        if b == 0x27 { return "\"'\"" }
        if (0x21...0x7E).contains(b) { return "'\(Character(Unicode.Scalar(b)))'" }
        if b < 0x80 { return "byte \(Self.hex(b))" }
        guard let length = utf8SequenceLength(at: position) else { return "byte \(Self.hex(b))" }
        var value = UInt32(b) & (0xFF >> UInt32(length + 1))
        for offset in 1..<length {
            value = value << 6 | UInt32(byte(at: position + offset) & 0x3F)
        }
        if value == 0xFEFF { return "a byte order mark (U+FEFF)" }
        let digits = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// A byte as 0xNN.
    private static func hex(_ b: UInt8) -> String {
        let digits = String(b, radix: 16, uppercase: true)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }

    /// Whether a byte is an ASCII decimal digit.
    @inline(__always)
    private static func isDigit(_ b: UInt8) -> Bool { b &- ASCII.zero < 10 }

    /// The value of an ASCII hex digit, or nil.
    private static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case ASCII.zero...ASCII.nine: b - ASCII.zero
        case 0x61...0x66: b - 0x61 + 10
        case 0x41...0x46: b - 0x41 + 10
        default: nil
        }
    }

    /// The ASCII bytes the grammar names.
    private enum ASCII {
        static let tab: UInt8 = 0x09
        static let lineFeed: UInt8 = 0x0A
        static let carriageReturn: UInt8 = 0x0D
        static let space: UInt8 = 0x20
        static let quote: UInt8 = 0x22
        static let plus: UInt8 = 0x2B
        static let comma: UInt8 = 0x2C
        static let minus: UInt8 = 0x2D
        static let dot: UInt8 = 0x2E
        static let slash: UInt8 = 0x2F
        static let zero: UInt8 = 0x30
        static let nine: UInt8 = 0x39
        static let colon: UInt8 = 0x3A
        static let openBracket: UInt8 = 0x5B
        static let backslash: UInt8 = 0x5C
        static let closeBracket: UInt8 = 0x5D
        static let letterB: UInt8 = 0x62
        static let letterE: UInt8 = 0x65
        static let letterF: UInt8 = 0x66
        static let letterN: UInt8 = 0x6E
        static let letterR: UInt8 = 0x72
        static let letterT: UInt8 = 0x74
        static let letterU: UInt8 = 0x75
        static let openBrace: UInt8 = 0x7B
        static let closeBrace: UInt8 = 0x7D
    }
}
