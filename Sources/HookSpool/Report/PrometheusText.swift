import Foundation

/// Builds Prometheus text exposition format (version 0.0.4), the format node_exporter's textfile collector reads.
///
/// Each family is written whole: `# HELP`, `# TYPE`, then its samples. Label values and help text are escaped
/// as the format asks (`\\`, `\"`, `\n`), so any endpoint name or path is safe to put in a label.
struct PrometheusText {
    /// A metric family's type.
    enum MetricType: String {
        case gauge, counter, histogram
    }

    /// One label: name and (unescaped) value.
    typealias Label = (name: String, value: String)

    /// One sample of a gauge or counter family.
    struct Sample {
        var labels: [Label]
        var value: Double

        init(_ labels: [Label], _ value: Double) {
            self.labels = labels
            self.value = value
        }

        /// A sample without labels.
        init(_ value: Double) {
            self.init([], value)
        }
    }

    /// One labelled series of a histogram family: cumulative bucket counts by upper bound (seconds), sum and count.
    struct HistogramSeries {
        var labels: [Label]
        var buckets: [(le: Double, count: Int)]
        var sum: Double
        var count: Int
    }

    /// The text so far; every line ends in a newline.
    private(set) var text = ""

    /// Appends a gauge or counter family; a family with no samples writes nothing.
    mutating func family(_ name: String, _ type: MetricType, help: String, _ samples: [Sample]) {
        guard !samples.isEmpty else { return }
        header(name, type, help: help)
        for sample in samples {
            line(name, sample.labels, sample.value)
        }
    }

    /// Appends a histogram family: `_bucket` lines (the last `le="+Inf"`), `_sum` and `_count` per series.
    mutating func histogram(_ name: String, help: String, _ series: [HistogramSeries]) {
        guard !series.isEmpty else { return }
        header(name, .histogram, help: help)
        for one in series {
            for bucket in one.buckets {
                line("\(name)_bucket", one.labels + [("le", Self.format(bucket.le))], Double(bucket.count))
            }
            line("\(name)_bucket", one.labels + [("le", "+Inf")], Double(one.count))
            line("\(name)_sum", one.labels, one.sum)
            line("\(name)_count", one.labels, Double(one.count))
        }
    }

    private mutating func header(_ name: String, _ type: MetricType, help: String) {
        text += "# HELP \(name) \(Self.escapeHelp(help))\n"
        text += "# TYPE \(name) \(type.rawValue)\n"
    }

    private mutating func line(_ name: String, _ labels: [Label], _ value: Double) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.name)=\"\(Self.escapeLabelValue($0.value))\"" }.joined(separator: ",") + "}"
        }
        text += " \(Self.format(value))\n"
    }

    /// A label value with `\`, `"` and line feeds escaped.
    static func escapeLabelValue(_ value: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(value.utf8.count)
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Help text with `\` and line feeds escaped.
    static func escapeHelp(_ help: String) -> String {
        help.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// A sample value: whole numbers without a fraction, `+Inf`, `-Inf`, `NaN`, otherwise the shortest exact decimal.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
