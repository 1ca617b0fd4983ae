/// Turns a run's live counters into one short progress line: files, events, delivered per second,
/// failures, and an ETA when one can be told.
///
/// Rates are over the last few seconds of samples, so a run that slows down shows it. The ETA comes
/// from the deliveries still due once every file has been read, and before that from the share of
/// files finished; with neither it is left out.
///
/// ```swift
/// var text = ProgressText()
/// text.line(progress, elapsed: .seconds(12))
/// // files 3/10  events 12000  delivered 11900 (2340/s)  failed 12  deferred 3  ETA 42s
/// ```
public struct ProgressText: Sendable {
    private struct Sample: Sendable {
        var elapsed: Duration
        var delivered: Int
        var finished: Int
    }

    /// How far back the rates look.
    public static let window: Duration = .seconds(5)
    private var samples: [Sample] = []

    public init() {}

    /// The line for `progress`, `elapsed` after the run started; call it with growing `elapsed`.
    public mutating func line(_ progress: RunProgress, elapsed: Duration) -> String {
        samples.append(Sample(elapsed: elapsed, delivered: progress.delivered, finished: progress.finishedDeliveries))
        while let first = samples.first, samples.count > 2, elapsed - first.elapsed > Self.window {
            samples.removeFirst()
        }
        let (deliveredRate, finishedRate) = rates(progress, elapsed: elapsed)

        var parts: [String] = []
        parts.append(progress.filesPlanned > 0 ? "files \(progress.filesFinished)/\(progress.filesPlanned)" : "files \(progress.filesFinished)")
        parts.append("events \(progress.events)")
        parts.append("delivered \(progress.delivered) (\(Self.rate(deliveredRate))/s)")
        if progress.failed > 0 { parts.append("failed \(progress.failed)") }
        if progress.deferred > 0 { parts.append("deferred \(progress.deferred)") }
        if progress.invalidLines > 0 { parts.append("invalid \(progress.invalidLines)") }
        if let eta = Self.eta(progress, elapsed: elapsed, finishedRate: finishedRate) {
            parts.append("ETA \(Self.format(eta))")
        }
        return parts.joined(separator: "  ")
    }

    /// Delivered and finished deliveries per second over the window (over the whole run until it holds two samples).
    private func rates(_ progress: RunProgress, elapsed: Duration) -> (delivered: Double, finished: Double) {
        if let first = samples.first, let last = samples.last, samples.count >= 2 {
            let span = (last.elapsed - first.elapsed).seconds
            if span > 0 {
                return (Double(last.delivered - first.delivered) / span, Double(last.finished - first.finished) / span)
            }
        }
        let seconds = elapsed.seconds
        guard seconds > 0 else { return (0, 0) }
        return (Double(progress.delivered) / seconds, Double(progress.finishedDeliveries) / seconds)
    }

    /// Time left: deliveries still due over the recent rate once every file is read; before that, by files finished.
    static func eta(_ progress: RunProgress, elapsed: Duration, finishedRate: Double) -> Duration? {
        if progress.readingFinished {
            let remaining = progress.deliveries - progress.finishedDeliveries
            guard remaining > 0 else { return nil }
            guard finishedRate > 0 else { return nil }
            return .milliseconds(Int64((Double(remaining) / finishedRate * 1000).rounded()))
        }
        guard progress.filesPlanned > 1, progress.filesFinished > 0, progress.filesFinished < progress.filesPlanned else { return nil }
        let perFile = elapsed.seconds / Double(progress.filesFinished)
        return .milliseconds(Int64((perFile * Double(progress.filesPlanned - progress.filesFinished) * 1000).rounded()))
    }

    /// `<1s`, `42s`, `3m05s`, `1h02m`.
    static func format(_ duration: Duration) -> String {
        let total = Int(duration.seconds.rounded())
        if total < 1 { return "<1s" }
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(pad(total % 60))s" }
        return "\(total / 3600)h\(pad(total / 60 % 60))m"
    }

    private static func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// A rate with one decimal below 10, whole above.
    static func rate(_ value: Double) -> String {
        guard value.isFinite, value > 0 else { return "0" }
        if value < 10 { return String(Double(Int((value * 10).rounded())) / 10) }
        return String(Int(value.rounded()))
    }
}
