import Foundation

/// Attempt latencies in log-spaced buckets (about 1% wide): percentiles in constant memory.
struct LatencyHistogram: Sendable, Equatable {
    /// Buckets per doubling; 70 gives a bucket width of about 1%.
    private static let bucketsPerOctave = 70.0
    private var counts: [Int: Int] = [:]
    private(set) var count = 0
    private(set) var maxMicroseconds: Int64 = 0

    mutating func record(_ duration: Duration) {
        let micros = max(Int64(1), duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        counts[Self.bucket(micros), default: 0] += 1
        count += 1
        maxMicroseconds = max(maxMicroseconds, micros)
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
