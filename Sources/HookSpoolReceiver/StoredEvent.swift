import Foundation

/// An accepted delivery as one line of the receiver's `--out` file:
/// `{"id":"evt_1","received_at":"2026-…Z","attempt":3,"event":{…the body…}}`.
///
/// The body is kept as received, except that line breaks between JSON tokens become spaces
/// (inside a JSON string they are always escaped, so the event's value does not change).
struct StoredEvent: Sendable {
    /// Why a verified body cannot be stored.
    enum Problem: Error, Sendable {
        /// The body is not one UTF-8 JSON object.
        case invalidBody
        /// Neither a signed id nor the body's `"id"` names the event.
        case noEventID
    }

    /// The id deliveries are deduplicated on.
    let id: String
    /// The body on one line.
    let event: [UInt8]

    /// Reads the event of a verified `body`; `signedID` is the id the signature covers, when the scheme has one
    /// (`standard`'s `webhook-id`), else the body's own `"id"` is used, which the signature covers too.
    init(body: [UInt8], signedID: String?) throws(Problem) {
        // An object, in UTF-8 without a byte-order mark; JSON text has no raw control characters but tab, CR and LF.
        let isWhitespace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard body.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{"),
            String(validating: body, as: UTF8.self) != nil,
            body.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }),
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { throw .invalidBody }
        guard let id = signedID ?? (object["id"] as? String), !id.isEmpty else { throw .noEventID }
        self.id = id
        self.event = body.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 }
    }

    /// The line for the `--out` file, without its newline.
    func line(receivedAt: Date, attempt: Int) -> [UInt8] {
        let time = receivedAt.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        let head = #"{"id":\#(JSONText.quoted(id)),"received_at":\#(JSONText.quoted(time)),"attempt":\#(attempt),"event":"#
        return Array(head.utf8) + event + [UInt8(ascii: "}")]
    }
}
