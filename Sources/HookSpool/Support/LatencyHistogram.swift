import Foundation

/// Attempt latencies in log-spaced buckets (about 1% wide): percentiles in constant memory.
///
/// It also counts them in the fixed buckets of `metricBounds`, for the Prometheus histogram of `metrics.textfile`.
struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds (`le`, in seconds) of the fixed metric buckets, 5 ms to 10 s; `+Inf` is implied.
    static let metricBounds: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Buckets per doubling; 70 gives a bucket width of about 1%.
    private static let bucketsPerOctave = 70.0
    private var counts: [Int: Int] = [:]
    private(set) var count = 0
    private(set) var maxMicroseconds: Int64 = 0
    /// Latencies at most each of `metricBounds` and above the one before (not cumulative).
    private var metricCounts = [Int](repeating: 0, count: LatencyHistogram.metricBounds.count)
    /// The sum of every latency recorded, in seconds.
    private(set) var sumSeconds: Double = 0

    mutating func record(_ duration: Duration) {
        let micros = max(Int64(1), duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        counts[Self.bucket(micros), default: 0] += 1
        count += 1
        maxMicroseconds = max(maxMicroseconds, micros)
        let seconds = max(0, duration.seconds)
        sumSeconds += seconds
        if let index = Self.metricBounds.firstIndex(where: { seconds <= $0 }) {
            metricCounts[index] += 1
        }
    }

    /// Cumulative counts for each of `metricBounds` (latencies at most that many seconds); `count` is the `+Inf` bucket.
    var cumulativeMetricCounts: [(le: Double, count: Int)] {
        var running = 0
        return zip(Self.metricBounds, metricCounts).map { bound, n in
            running += n
            return (bound, running)
        }
    }

    /// The latency at quantile `q` (0…1) in milliseconds, or nil when empty.
    func percentile(_ q: Double) -> Double? {
        guard count > 0 else { return nil }
        let rank = max(1, Int((q * Double(count)).rounded(.up)))
        var seen = 0
        for bucket in counts.keys.sorted() {
            seen += counts[bucket] ?? 0
            if seen >= rank {
                let upper = Self.upperBound(bucket)
                return Self.milliseconds(min(upper, maxMicroseconds))
            }
        }
        return Self.milliseconds(maxMicroseconds)
    }

    var maxMilliseconds: Double? { count > 0 ? Self.milliseconds(maxMicroseconds) : nil }

    private static func bucket(_ micros: Int64) -> Int {
        Int((log2(Double(micros)) * bucketsPerOctave).rounded(.down))
    }

    private static func upperBound(_ bucket: Int) -> Int64 {
        Int64(pow(2.0, Double(bucket + 1) / bucketsPerOctave).rounded(.up))
    }

    /// Milliseconds rounded to 0.01.
    private static func milliseconds(_ micros: Int64) -> Double {
        (Double(micros) / 10).rounded() / 100
    }
}
