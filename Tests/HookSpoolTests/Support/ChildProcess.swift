import Foundation
import Synchronization

/// The real `hookspool` binary as a child process that a test can signal and wait for.
///
/// Blocking waits and pipe reads happen on Dispatch threads, never on the cooperative pool
/// that the in-process receivers need.
final class ChildProcess: Sendable {
    private let process: Process
    private let output = OutputBox()
    private let finished = DispatchGroup()

    private final class OutputBox: Sendable {
        let data = Mutex(Data())
    }

    /// Starts `hookspool arguments…` in `directory`; stdout and stderr are collected together.
    ///
    /// The spawn, the pipe read and the wait happen on threads of their own (see `BlockingThread`).
    static func start(_ arguments: [String], in directory: String) async throws -> ChildProcess {
        try await BlockingThread.run { try ChildProcess(arguments, in: directory) }
    }

    private init(_ arguments: [String], in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BinaryTests.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        self.process = process
        try process.run()
        finished.enter()
        BlockingThread.detach { [output, finished] in
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            output.data.withLock { $0 = data }
            process.waitUntilExit()
            finished.leave()
        }
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    var pid: Int32 { process.processIdentifier }

    /// Sends `signal` (SIGTERM, SIGKILL, …).
    func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the exit and returns its status and everything it printed; throws after `timeout`.
    func wait(timeout: Duration = .seconds(60)) async throws -> (status: Int32, output: String) {
        let exited: Bool = (try? await BlockingThread.run { [finished] in
            let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
            return finished.wait(timeout: .now() + seconds) == .success
        }) ?? false
        guard exited else {
            send(SIGKILL)
            throw TestFailure("hookspool did not exit within \(timeout)")
        }
        // SIGKILL shows as termination status 9 with reason uncaughtSignal.
        let status = process.terminationReason == .uncaughtSignal ? -process.terminationStatus : process.terminationStatus
        return (status, String(decoding: output.data.withLock { $0 }, as: UTF8.self))
    }
}
