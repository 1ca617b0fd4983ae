/// When the reader stops waiting for an endpoint that holds its whole share of the read-ahead
/// window, so endpoints that stop answering cannot hold up the others.
///
/// Pure: it decides from what the shares show and the clock's time; `FileReader` does the waiting.
struct ReadAheadPolicy: Sendable {
    /// What the reader does about a delivery whose endpoint's share is full.
    enum Decision: Sendable, Equatable {
        /// Wait (again) for a place in the share.
        case wait
        /// Leave this endpoint's deliveries from here to a later pass over the file.
        case behind
        /// Leave the rest of the file to the next run: this endpoint is not keeping up, and other files wait.
        case leave
    }

    /// How long the reader waits for an endpoint that holds its whole share to finish one delivery
    /// before it leaves that endpoint's remaining deliveries in the file to a later pass.
    var patience = Duration.seconds(1)

    /// Deliveries one endpoint may hold of a read-ahead window of `window`: an equal part of it
    /// (at least 16) when there are several endpoints.
    static func share(window: Int, endpoints: Int) -> Int {
        endpoints > 1 ? max(16, window / endpoints) : window
    }

    /// Deliveries read ahead of the senders (in flight or waiting to retry) at most, for a run
    /// with `concurrency` requests in flight, so memory stays flat.
    ///
    /// Each is a parked task of about 8 KiB (its frames and its event's body): 1,024 of them, with 64
    /// requests in flight, cost some 10 MiB; 4,096 cost 35 MiB and were no faster. Twice the
    /// requests in flight keeps one waiting behind each: 16 times, as up to 0.4.0, took 8,192
    /// parked tasks and 98 MiB at 512 in flight (50 MiB now), and was no faster.
    static func window(concurrency: Int) -> Int {
        min(max(concurrency * 2, 1024), 16_384)
    }

    /// The share is full and no place came free at once. An endpoint that is `lagging` (left
    /// behind before, its share still full) gets no patience: `.leave` when `mayLeave` (a later
    /// pass, with more files after this one), else `.behind`. Any other waits.
    func whenFull(lagging: Bool, mayLeave: Bool) -> Decision {
        guard lagging else { return .wait }
        return mayLeave ? .leave : .behind
    }

    /// No place came back within `patience`: `.behind` while one of the other endpoints still
    /// read for in this pass is moving, `.leave` when `mayLeave`, else wait on.
    func afterPatience(othersMoving: Bool, mayLeave: Bool) -> Decision {
        if othersMoving { return .behind }
        return mayLeave ? .leave : .wait
    }

    /// Whether a share is moving at `now`: a place is free, or one came back within `patience`.
    func isMoving(free: Bool, lastRelease: Duration, now: Duration) -> Bool {
        free || now - lastRelease < patience
    }
}
