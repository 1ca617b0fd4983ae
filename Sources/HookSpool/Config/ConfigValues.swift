/// Parsers for the config's value syntaxes: durations (`250ms`, `10s`, `5m`, `1h`, `5d`) and sizes (`512KiB`, `1MiB`).
enum ConfigValues {
    /// Parses a duration such as `250ms`, `1.5s`, `5m`, `1h`, `5d`; nil when it is not one.
    static func duration(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Double)] = [
            ("ms", 1), ("s", 1_000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
        ]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            // "5ms" also ends in "s"; the loop tries "ms" first, and "5m" + "s" is not a number.
            guard isPlainDecimal(number), let value = Double(number) else { continue }
            let milliseconds = value * unit.milliseconds
            guard milliseconds.isFinite, milliseconds < 1e15 else { return nil }
            return .milliseconds(Int64(milliseconds.rounded()))
        }
        return nil
    }

    /// Parses a size: a whole number of bytes, or a number with `B`, `KiB`, `MiB` or `GiB`; nil when it is not one.
    static func size(_ text: String) -> Int? {
        let units: [(suffix: String, factor: Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(number) else { continue }
            let (bytes, overflow) = value.multipliedReportingOverflow(by: unit.factor)
            return overflow ? nil : bytes
        }
        return nil
    }

    /// Renders a duration the way the config writes it.
    static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 86_400_000 == 0 && ms > 0 { return "\(ms / 86_400_000)d" }
        if ms % 3_600_000 == 0 && ms > 0 { return "\(ms / 3_600_000)h" }
        if ms % 60_000 == 0 && ms > 0 { return "\(ms / 60_000)m" }
        if ms % 1_000 == 0 { return "\(ms / 1_000)s" }
        return "\(ms)ms"
    }

    private static func isPlainDecimal(_ text: Substring) -> Bool {
        guard let first = text.first, first.isASCII, first.isNumber else { return false }
        var dots = 0
        for character in text {
            if character == "." { dots += 1; continue }
            guard character.isASCII, character.isNumber else { return false }
        }
        return dots <= 1 && text.last != "."
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
