import Synchronization

/// Values appended from many tasks, in the order they came.
final class OrderLog: Sendable {
    private let log = Mutex<[Int]>([])

    func append(_ value: Int) { log.withLock { $0.append(value) } }

    var values: [Int] { log.withLock { $0 } }

    func clear() { log.withLock { $0 = [] } }
}
