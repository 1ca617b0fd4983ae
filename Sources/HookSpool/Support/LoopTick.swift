import NIOCore
import NIOPosix

/// Work an event loop does once it has handled the events at hand, all together: the tasks of
/// the attempts it answered are resumed in one go, so that an idle thread pool wakes once for
/// many of them instead of once for each.
///
/// `@unchecked Sendable`: each instance belongs to one event loop's thread, the only one that
/// touches `pending` (the closure `execute` runs is on that thread too).
final class LoopTick: @unchecked Sendable {
    private var pending: [@Sendable () -> Void] = []
    private let loop: any EventLoop
    private static let current = ThreadSpecificVariable<LoopTick>()

    private init(loop: any EventLoop) {
        self.loop = loop
    }

    /// Runs `body` when this thread's event loop has handled the events at hand; at once when
    /// called off an event loop.
    static func later(_ body: @escaping @Sendable () -> Void) {
        guard let loop = MultiThreadedEventLoopGroup.currentEventLoop else {
            body()
            return
        }
        let tick: LoopTick
        if let known = current.currentValue {
            tick = known
        } else {
            tick = LoopTick(loop: loop)
            current.currentValue = tick
        }
        tick.pending.append(body)
        if tick.pending.count == 1 {
            loop.execute { tick.run() }
        }
    }

    private func run() {
        let work = pending
        pending = []
        for body in work { body() }
    }
}
