/// The top-level fields of one valid spool line, and where its object sits in the line.
struct EventLineFields: Sendable, Equatable {
    /// The decoded `type` (never empty).
    var type: String
    /// The decoded `id`, or nil when the line has none (never empty when present).
    var id: String?
    /// The decoded `timestamp`, or nil when the line has none (never empty when present).
    var timestamp: String?
    /// Whether the top-level object has a `data` key (its value may be any JSON, `null` included).
    var hasData: Bool
    /// The byte index of the top-level object's opening `{` within the line.
    var objectStart: Int
    /// The byte index of the top-level object's matching closing `}` within the line.
    var objectEnd: Int

    /// Whether the object has members; always true, because a valid line always has `type`.
    var hasMembers: Bool { true }
}
