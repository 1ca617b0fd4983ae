/// Why one spool line was rejected, and the byte index in the line where the problem is.
struct EventLineError: Error, Equatable, Sendable {
    /// A short message for a person; it quotes at most one or two characters of the line.
    var reason: String
    /// The byte index within the line that the reason is about (0 when the line is empty).
    var offset: Int
}
