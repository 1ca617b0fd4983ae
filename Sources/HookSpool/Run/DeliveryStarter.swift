import Logging

/// Starts each delivery as a task of the run once the read-ahead window has room, and sees it
/// to its end: its places in the window and its lane's share given back, its outcome journaled
/// and counted, and its file finished after the file's last delivery.
///
/// A class: each delivery's task holds it, and a struct of the run's context would be copied,
/// field by field, into every one of them (1.3% of a run's samples).
final class DeliveryStarter: Sendable {
    let context: RunContext
    let dispatcher: Dispatcher
    /// Deliveries read ahead of the senders, across every lane.
    let window: AsyncSemaphore
    let finisher: FileFinisher

    init(context: RunContext, dispatcher: Dispatcher, window: AsyncSemaphore, finisher: FileFinisher) {
        self.context = context
        self.dispatcher = dispatcher
        self.window = window
        self.finisher = finisher
    }

    /// Starts the delivery of `event` (line `line` of `file`) to `lane`, whose share the reader has taken.
    func start(_ event: Event, line: Int, to lane: EndpointLane, of file: FileTask, in group: inout DiscardingTaskGroup) async {
        let key = lane.key(line: line)
        let firstAttempt = file.resume.firstAttempt[key]
        await window.acquire()
        file.deliveryScheduled()
        // Taken here, in reading order: a fifo endpoint's deliveries go in the order of their turns.
        let turn = lane.fifo?.turn(in: file.name)
        group.addTask { [self] in
            if let turn, let fifo = lane.fifo { await fifo.wait(for: turn) }
            // Recorded before the slots go back (an answer that settles the delivery, before its
            // request's; any other outcome, before the read-ahead window's): a request started in a
            // freed slot must never be one more whose outcome could not be recorded.
            let settled = Handoff<FileTask.Finished>()
            let outcome: DeliveryOutcome
            if let fifo = lane.fifo, case .held(let until) = fifo.admit(in: file.name) {
                outcome = context.control.isStopping ? .interrupted : .held(until: until)
            } else {
                // The first attempt's time, as the dispatcher takes it: the report's `first_attempt`.
                let first = firstAttempt ?? context.clock.unixSeconds
                outcome = await dispatcher.deliver(event, to: lane, firstAttempt: first) { [self] outcome in
                    settled.value = record(outcome, key: key, of: event, in: file, firstAttempt: first)
                }
            }
            let finished = settled.value ?? record(outcome, key: key, of: event, in: file, firstAttempt: firstAttempt ?? context.clock.unixSeconds)
            // After the journal has the outcome: the next turn may be the file's last, or the next file's first.
            if let turn { lane.fifo?.finish(turn, in: file.name, outcome) }
            window.release()
            lane.share.release()
            // Closed as they come free, not all at the end of the run: the last answers still come meanwhile.
            if context.ledger.isReadingFinished { lane.closeSpareConnections() }
            context.ledger.record(outcome, row: finished.row, tally: lane.tally)
            if finished.last {
                await finisher.finish(file)
            }
        }
    }

    /// Counts and journals a delivery's outcome; stops the run when the journal cannot be written.
    private func record(_ outcome: DeliveryOutcome, key: DeliveryKey, of event: Event, in file: FileTask, firstAttempt: Int64) -> FileTask.Finished {
        let finished = file.deliveryFinished(key, of: event, outcome, firstAttempt: firstAttempt)
        if let error = file.journal?.error, !context.control.isStopping {
            // Outcomes can no longer be recorded (a full disk, a shared filesystem's client gone):
            // sending more would only make duplicates for the run that resumes this file. Stop cleanly.
            context.ioError(
                "cannot write the journal of \(file.name): \(error); stopping, a later run resumes", log: "cannot write a journal; stopping the run",
                file: file.name, error: error
            )
            context.control.requestStop()
        }
        return finished
    }
}
