import HookSpool

/// Small pieces of JSON text written by hand: quoted strings and the receiver's answer bodies.
enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    static func quoted(_ text: String) -> String {
        LogLineFormat.jsonString(text)
    }

    /// `{"error": "<reason>"}`.
    static func error(_ reason: String) -> String {
        #"{"error":\#(quoted(reason))}"#
    }
}
