import Crypto
import NIOCore

/// Turns one spool line into an `Event`, applying the line rules of the spool contract.
struct EventDecoder: Sendable {
    /// What one line turned out to be.
    enum Decoded {
        case event(Event)
        case blank
        case invalid(reason: String)
    }

    /// The spool file's name, part of every derived id.
    let fileName: String
    /// RFC 3339 time used when an event has no `timestamp` (the file's modification time).
    let defaultTimestamp: String
    let allocator = ByteBufferAllocator()

    /// Longest accepted `id` or `type`, in bytes.
    static let maxFieldBytes = 255

    func decode(number: Int, bytes: UnsafeRawBufferPointer) -> Decoded {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return .blank }
        let fields: EventLineFields
        switch EventLineParser.parse(bytes) {
        case .success(let parsed): fields = parsed
        case .failure(let error): return .invalid(reason: error.reason)
        }
        if let problem = Self.fieldProblem("type", fields.type) { return .invalid(reason: problem) }
        if let id = fields.id, let problem = Self.fieldProblem("id", id) { return .invalid(reason: problem) }
        if let timestamp = fields.timestamp, !RFC3339.isValid(timestamp) {
            return .invalid(reason: "field 'timestamp' is not an RFC 3339 date-time (e.g. 2026-01-31T12:00:00Z)")
        }

        let object = UnsafeRawBufferPointer(rebasing: bytes[fields.objectStart...fields.objectEnd])
        let id = fields.id ?? Self.derivedID(fileName: fileName, line: number, bytes: bytes)
        var body: ByteBuffer
        if fields.id != nil && fields.timestamp != nil && fields.hasData {
            body = allocator.buffer(capacity: object.count)
            body.writeBytes(object)
        } else {
            // Insert the missing fields right after '{'; the object has at least `type`, so a comma follows.
            body = allocator.buffer(capacity: object.count + 96)
            body.writeInteger(UInt8(ascii: "{"))
            if fields.id == nil {
                body.writeString("\"id\":\"\(id)\",")
            }
            if fields.timestamp == nil {
                body.writeString("\"timestamp\":\"\(defaultTimestamp)\",")
            }
            if !fields.hasData {
                body.writeString("\"data\":{},")
            }
            body.writeBytes(UnsafeRawBufferPointer(rebasing: object.dropFirst()))
        }
        return .event(Event(line: number, id: id, type: fields.type, body: body))
    }

    /// Why an `id` or `type` value cannot be sent in a header, or nil when it is fine.
    static func fieldProblem(_ name: String, _ value: String) -> String? {
        if value.isEmpty { return "field '\(name)' must not be empty" }
        if value.utf8.count > maxFieldBytes { return "field '\(name)' is longer than \(maxFieldBytes) bytes" }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "field '\(name)' must not contain control characters"
        }
        return nil
    }

    /// `evt_` and 32 hex digits of SHA-256 over the file name, the line number and the line's bytes.
    static func derivedID(fileName: String, line: Int, bytes: UnsafeRawBufferPointer) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(fileName.utf8))
        hasher.update(data: [0x0A])
        hasher.update(data: Array(String(line).utf8))
        hasher.update(data: [0x0A])
        hasher.update(bufferPointer: bytes)
        let digest = hasher.finalize()
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var text = "evt_"
        text.reserveCapacity(36)
        for byte in digest.prefix(16) {
            text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
            text.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 0x0F)]))
        }
        return text
    }
}
