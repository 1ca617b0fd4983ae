/// When a file deferred to a later run is due again: at once when only a stop left work in it
/// (or, when a fifo endpoint's order held it, when the file it waits behind is: `notBefore`);
/// else after the schedule's entry for its deferral count (the last repeats, ±10%), and never
/// before an endpoint's `Retry-After`.
struct DeferralSchedule: Sendable {
    /// `delivery.retry_schedule`; empty means five minutes each time.
    var steps: [Duration]

    /// When the file is next due (unix seconds), and the deferral count to record (nil when a stop
    /// alone left the file unfinished, which does not count).
    func next(
        now: Int64, deferrals: Int, interruptedOnly: Bool, notBefore: Int64?, using random: inout some RandomNumberGenerator
    ) -> (due: Int64, count: Int?) {
        if interruptedOnly { return (max(now, notBefore ?? now), nil) }
        let count = deferrals < Int.max ? deferrals + 1 : deferrals
        let (later, overflow) = now.addingReportingOverflow(delay(count, using: &random))
        return (max(overflow ? Int64.max : later, notBefore ?? 0), count)
    }

    /// Seconds until the next try of a file deferred for the `count`-th time: the schedule's entry (the last repeats), ±10%.
    func delay(_ count: Int, using random: inout some RandomNumberGenerator) -> Int64 {
        let base = steps.isEmpty ? Duration.seconds(300) : steps[min(max(count - 1, 0), steps.count - 1)]
        let seconds = base.seconds * Double.random(in: 0.9...1.1, using: &random)
        return max(1, Int64(seconds.rounded()))
    }
}
