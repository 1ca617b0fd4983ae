import Foundation

/// A verified delivery's event, as one line of the receiver's `--out` file: the body itself.
///
/// The body is kept as received, except that line breaks between JSON tokens become spaces
/// (inside a JSON string they are always escaped, so the event's value does not change). So the
/// file is NDJSON events, the spool's own format, and a restart reads the ids back from it.
struct StoredEvent: Sendable {
    /// Why a verified body cannot be stored.
    enum Problem: Error, Sendable, Equatable {
        /// The body is not one UTF-8 JSON object.
        case invalidBody
        /// The body has no string `"id"`.
        case noEventID
        /// An id header names another event than the body's `"id"`.
        case idMismatch(header: String, body: String)
    }

    /// The id deliveries are deduplicated on: the body's `"id"`, which every scheme's signature covers.
    let id: String
    /// The body on one line, without a newline.
    let line: [UInt8]

    /// Reads the event of a verified `body`; `headerID` is the `webhook-id` or `X-Webhook-Id` the request carried, if any,
    /// and must then be the body's id.
    init(body: [UInt8], headerID: String?) throws(Problem) {
        // An object, in UTF-8 without a byte-order mark; JSON text has no raw control characters but tab, CR and LF.
        let isWhitespace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D }
        guard body.first(where: { !isWhitespace($0) }) == UInt8(ascii: "{"),
            String(validating: body, as: UTF8.self) != nil,
            body.allSatisfy({ $0 >= 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }),
            let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        else { throw .invalidBody }
        guard let id = object["id"] as? String, !id.isEmpty else { throw .noEventID }
        if let headerID, headerID != id { throw .idMismatch(header: headerID, body: id) }
        self.id = id
        self.line = body.map { $0 == 0x0A || $0 == 0x0D ? UInt8(ascii: " ") : $0 }
    }
}
