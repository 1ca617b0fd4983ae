/// Validates one spool line (strict RFC 8259 JSON, UTF-8) and extracts its top-level event fields.
enum EventLineParser {
    /// The deepest nesting of objects and arrays accepted; deeper lines are rejected, never a crash.
    static let maximumDepth = 512

    /// Parses the bytes of one line (without its newline).
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<EventLineFields, EventLineError> {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            return .failure(EventLineError(reason: "not valid JSON: the line is empty", offset: 0))
        }
        var scanner = EventLineScanner(base: base, count: bytes.count, maximumDepth: maximumDepth)
        do {
            return .success(try scanner.scanLine())
        } catch {
            return .failure(error)
        }
    }

    /// Parses the bytes of one line (without its newline).
    static func parse(_ bytes: [UInt8]) -> Result<EventLineFields, EventLineError> {
        bytes.withUnsafeBytes { parse($0) }
    }
}
