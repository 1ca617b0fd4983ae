import NIOPosix
import Synchronization

/// Makes folder changes durable with as few fsyncs as possible (group commit): callers that ask
/// while a folder's fsync runs share the next one, which starts after theirs were made.
///
/// The fsyncs run on a thread pool, so a slow disk never blocks the tasks that send requests.
final class FolderSyncer: Sendable {
    private struct Folder {
        var running = false
        var waiting: [CheckedContinuation<FileSystemError?, Never>] = []
    }

    private let state = Mutex<[String: Folder]>([:])
    private let pool: NIOThreadPool

    init(pool: NIOThreadPool = .singleton) {
        self.pool = pool
    }

    /// Returns once every change made to `path` before the call is durable.
    func sync(_ path: String) async throws(FileSystemError) {
        let error = await withCheckedContinuation { continuation in
            let start = state.withLock { folders -> Bool in
                folders[path, default: Folder()].waiting.append(continuation)
                if folders[path]?.running == true { return false }
                folders[path]?.running = true
                return true
            }
            if start { round(path) }
        }
        if let error { throw error }
    }

    /// One fsync for everyone waiting now; those who come meanwhile wait for the next round.
    private func round(_ path: String) {
        let batch = state.withLock { folders -> [CheckedContinuation<FileSystemError?, Never>] in
            defer { folders[path]?.waiting = [] }
            return folders[path]?.waiting ?? []
        }
        pool.submit { _ in
            var failure: FileSystemError?
            do throws(FileSystemError) {
                try FileSystem.syncDirectory(path)
            } catch {
                failure = error
            }
            for waiter in batch { waiter.resume(returning: failure) }
            let again = self.state.withLock { folders -> Bool in
                if folders[path]?.waiting.isEmpty ?? true {
                    folders[path]?.running = false
                    return false
                }
                return true
            }
            if again { self.round(path) }
        }
    }
}
