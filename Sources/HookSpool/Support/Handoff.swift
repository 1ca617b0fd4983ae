import Synchronization

/// A value one thread leaves for another: set in a callback, read by the task it resumes.
final class Handoff<Value: Sendable>: Sendable {
    private let stored = Mutex<Value?>(nil)

    init() {}

    var value: Value? {
        get { stored.withLock { $0 } }
        set { stored.withLock { $0 = newValue } }
    }
}
