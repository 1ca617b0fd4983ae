#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Logging

/// Reads one file and starts every due delivery: a first pass over the whole file, then passes
/// for the lanes that fell behind, each from the line where it did.
///
/// A lane may hold at most its share of the read-ahead window; when it has held all of it for a
/// while, the others go on (`ReadAheadPolicy`), and its remaining deliveries are read again in a later pass.
struct FileReader: Sendable {
    let context: RunContext
    let starter: DeliveryStarter
    let policy: ReadAheadPolicy

    /// What carries over from one file to the next.
    struct Carry {
        var router: LaneRouter
        /// Lanes whose deliveries were left for the next run because they did not keep up.
        var lagging: Set<EndpointLane> = []
    }

    /// Where a lane that fell behind takes up its deliveries again.
    struct Behind {
        var line: Int
        var position: LineReader.Position
    }

    /// One file being read.
    private struct Source {
        var file: FileTask
        var reader: LineReader
        var decoder: EventDecoder
        /// Whether other files wait behind this one (a lane that does not keep up may leave the rest of it).
        var moreFiles: Bool
    }

    /// How a pass ended.
    private enum PassEnd {
        /// At the end of the file; `behind` are the lanes to read for again, from where they fell behind.
        case read(behind: [EndpointLane: Behind])
        /// The run is stopping, or the rest of the file is left to the next run.
        case cut
    }

    /// Reads `file`; returns whether it read to the end.
    func read(_ file: FileTask, moreFiles: Bool, carry: inout Carry, group: inout DiscardingTaskGroup) async throws -> Bool {
        guard let (reader, modified) = try lineReader(for: file) else { return true }
        let decoder = EventDecoder(fileName: file.originalName, defaultTimestamp: RFC3339.format(secondsSince1970: Int(modified.tv_sec)))
        let source = Source(file: file, reader: reader, decoder: decoder, moreFiles: moreFiles)
        guard case .read(var pending) = try await pass(source, from: reader.position, only: nil, carry: &carry, group: &group) else { return false }
        // Later passes: only the deliveries left to lanes that fell behind, each from the line
        // where it did; one that falls behind again while others go on waits for the next pass.
        while let first = pending.values.min(by: { $0.line < $1.line }) {
            context.logger.debug("another pass for endpoints that fell behind", metadata: ["hookspool.file": "\(file.name)", "hookspool.line": "\(first.line)"])
            reader.seek(to: first.position)
            guard case .read(let behind) = try await pass(source, from: first.position, only: pending, carry: &carry, group: &group) else { return false }
            pending = behind
        }
        return true
    }

    /// One pass from `start`: the first (`only` nil: every due delivery, invalid lines reported,
    /// events counted) or a later one (the deliveries of the lanes in `only`, each from its line).
    private func pass(
        _ source: Source, from start: LineReader.Position, only: [EndpointLane: Behind]?, carry: inout Carry, group: inout DiscardingTaskGroup
    ) async throws -> PassEnd {
        let (file, reader, decoder) = (source.file, source.reader, source.decoder)
        let first = only == nil
        let maxEventBytes = context.config.limits.maxEventBytes
        var behind: [EndpointLane: Behind] = [:]
        // Lanes this pass has given deliveries to: only their progress tells a stalled lane.
        var served = Set<EndpointLane>()
        var lineStart = start
        while let (number, decoded) = try reader.next({ line -> (Int, EventDecoder.Decoded) in
            switch line {
            case .text(let number, let bytes):
                return (number, decoder.decode(number: number, bytes: bytes))
            case .oversized(let number, let length):
                return (number, first ? .invalid(reason: "line is \(length) bytes, more than limits.max_event_bytes (\(maxEventBytes))") : .blank)
            }
        }) {
            let thisLine = lineStart
            lineStart = reader.position
            if context.control.isStopping { return .cut }
            let event: Event
            switch decoded {
            case .blank:
                continue
            case .invalid(let reason):
                if first { invalidLine(number, of: file, reason: reason) }
                continue
            case .event(let read):
                event = read
            }
            let routed = carry.router.route(event.type)
            if first {
                file.eventRead()
                if context.dryRun {
                    dryRun(event, line: number, to: routed, of: file)
                    continue
                }
            }
            // The first pass takes every share the event needs, then starts its deliveries; a
            // later pass starts each as it takes its share.
            var taken: [EndpointLane] = []
            for lane in routed {
                if let only {
                    guard let from = only[lane], number >= from.line else { continue }
                }
                guard behind[lane] == nil, file.isDue(lane.key(line: number)) else { continue }
                let stillBehind = behind
                let others = { served.filter { $0 !== lane && stillBehind[$0] == nil } }
                switch await takeShare(of: lane, lagging: carry.lagging.contains(lane), mayLeave: !first && source.moreFiles, others: others) {
                case .taken:
                    carry.lagging.remove(lane)
                case .behind:
                    behind[lane] = Behind(line: number, position: thisLine)
                    continue
                case .leave:
                    // Other files wait behind this one: the rest of it goes to the next run,
                    // which sends only what the journal does not record.
                    carry.lagging.insert(lane)
                    context.logger.warning(
                        "endpoint is not keeping up; the rest of this file is left for the next run",
                        metadata: ["hookspool.file": "\(file.name)", "hookspool.endpoint": "\(lane.name)", "hookspool.line": "\(number)"]
                    )
                    return .cut
                }
                if first {
                    taken.append(lane)
                    continue
                }
                served.insert(lane)
                context.ledger.deliveriesRead(1)
                await starter.start(event, line: number, to: lane, of: file, in: &group)
            }
            if first {
                context.ledger.eventRead(deliveries: taken.count, unrouted: routed.isEmpty)
                for lane in taken {
                    served.insert(lane)
                    await starter.start(event, line: number, to: lane, of: file, in: &group)
                }
            }
        }
        return .read(behind: behind)
    }

    /// What the reader does about one delivery, after trying for a place in its lane's share.
    private enum Take {
        case taken
        case behind
        case leave
    }

    /// Takes a place in `lane`'s share of the read-ahead window, waiting while the policy says so.
    /// `others` are the lanes still read for in this pass, whose progress tells a stalled lane.
    private func takeShare(of lane: EndpointLane, lagging: Bool, mayLeave: Bool, others: () -> Set<EndpointLane>) async -> Take {
        if lane.share.tryAcquire() { return .taken }
        while true {
            switch policy.whenFull(lagging: lagging, mayLeave: mayLeave) {
            case .behind: return .behind
            case .leave: return .leave
            case .wait: break
            }
            if await lane.share.acquire(within: policy.patience) { return .taken }
            // Stopping: the reader's next check ends the pass.
            if context.control.isStopping || Task.isCancelled { return .behind }
            let now = context.clock.uptime
            let othersMoving = others().contains { other in
                let activity = other.share.activity
                return policy.isMoving(free: activity.free, lastRelease: activity.lastRelease, now: now)
            }
            switch policy.afterPatience(othersMoving: othersMoving, mayLeave: mayLeave) {
            case .behind: return .behind
            case .leave: return .leave
            case .wait: continue
            }
        }
    }

    /// Reports an invalid line (once: not again when an earlier run read the file to its end).
    private func invalidLine(_ number: Int, of file: FileTask, reason: String) {
        let row = RunReport.FailureRow(file: file.name, invalidLine: number, reason: reason)
        if file.invalidLine(row) { context.ledger.invalidLine(row) }
        context.logger.debug("invalid line", metadata: ["hookspool.file": "\(file.name)", "hookspool.line": "\(number)", "reason": "\(reason)"])
    }

    /// A dry run counts the event and logs what it would send.
    private func dryRun(_ event: Event, line: Int, to routed: [EndpointLane], of file: FileTask) {
        let receivers = routed.filter { file.isDue($0.key(line: line)) }
        context.ledger.eventRead(deliveries: receivers.count, unrouted: routed.isEmpty)
        for lane in receivers {
            let signature = RequestHeaders.signature(for: lane.endpoint.request(for: event), signing: lane.endpoint.signing, timestamp: context.clock.unixSeconds)
            let names = signature.map { (RequestHeaders.fixed(for: lane.endpoint) + [("Content-Length", "")] + $0).map(\.name) } ?? ["none: no valid secret"]
            context.logger.debug(
                "would deliver", metadata: ["hookspool.endpoint": "\(lane.name)", "hookspool.event_id": "\(event.id)", "headers": "\(names)"]
            )
        }
    }

    /// A reader over the claimed file (in a dry run, the file in `incoming/`, opened as a claim
    /// would), up to the size it had when opened; and the file's modification time.
    private func lineReader(for file: FileTask) throws -> (LineReader, modified: timespec)? {
        let maxLineBytes = context.config.limits.maxEventBytes
        if let claimed = file.claimed {
            return (LineReader(descriptor: claimed.descriptor, path: claimed.path, maxLineBytes: maxLineBytes, limit: claimed.size), claimed.modified)
        }
        let incoming = context.spool.incoming
        switch FileSystem.openSpoolFile(file.name, in: incoming, singleLink: true) {
        case .opened(let opened):
            let reader = LineReader(descriptor: opened.descriptor, path: "\(incoming)/\(file.name)", maxLineBytes: maxLineBytes, limit: opened.size, ownsDescriptor: true)
            return (reader, opened.modified)
        case .refused(let reason):
            context.refuse([RefusedEntry(name: file.name, reason: reason)])
            return nil
        case .missing:
            return nil
        case .failed(let error):
            throw error
        }
    }
}
