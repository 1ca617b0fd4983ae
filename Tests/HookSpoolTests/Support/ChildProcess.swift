#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A program the tests run as a child process: the one place the test target spawns anything.
///
/// `run` runs a program to its exit; `start` leaves it running in the background, to be waited on,
/// signalled or stopped. Either way:
/// - the spawn and the pipe reads happen on threads of their own (`BlockingThread`), never on the
///   cooperative pool the in-process receivers answer from, nor on Dispatch's global queues;
/// - stdout and stderr are read as the child writes them, concurrently with waiting for its exit,
///   so a child that prints a lot can never block on a full pipe;
/// - every wait has a deadline and is woken by what it waits for (a chunk of output, the exit),
///   not by polling; a child still running at the deadline is killed and the wait fails, naming it.
///
/// Call `kill()` in a `defer` for a background child so it never outlives the test; it is also
/// killed when the last reference to it goes.
final class ChildProcess: Sendable {
    /// Where the child's standard error goes; what arrives there is `stderr` either way.
    enum ErrorOutput: Sendable {
        /// A pipe.
        case pipe
        /// The child's end of a new pseudo-terminal, for code that behaves differently on a terminal.
        case terminal
    }

    /// How a child ended, and everything it printed.
    struct Exit: Sendable {
        /// The exit code, or minus the number of the signal that ended the process (`-SIGKILL`).
        var status: Int32
        /// The signal that ended the process, if one did.
        var signal: Int32?
        var stdout: String
        var stderr: String

        /// Whether the process exited (with any code) rather than being ended by a signal.
        var exitedNormally: Bool { signal == nil }
        /// stdout, then stderr.
        var output: String { stdout + stderr }
    }

    /// The program and its arguments, shortened, for messages.
    let command: String
    let pid: Int32
    private let process: Process
    private let shared: Shared

    // MARK: Running

    /// Runs `executable arguments…` to its exit and returns its status and output.
    ///
    /// - Parameters:
    ///   - directory: the working directory; the test process's own when nil.
    ///   - environment: added to (and overriding) the test process's environment.
    ///   - stdin: the child's standard input, read from an unlinked temporary file (not a pipe: a
    ///     child that exits without reading it would make a pipe write raise SIGPIPE, which ends the
    ///     whole test process); `/dev/null` when nil.
    ///   - timeout: a child still running then is killed with SIGKILL and this throws.
    static func run(
        _ executable: String,
        _ arguments: [String],
        in directory: String? = nil,
        environment: [String: String] = [:],
        stdin: Data? = nil,
        stderr: ErrorOutput = .pipe,
        timeout: Duration = .seconds(60)
    ) async throws -> Exit {
        let child = try await start(executable, arguments, in: directory, environment: environment, stdin: stdin, stderr: stderr)
        defer { child.kill() }
        return try await child.waitForExit(timeout: timeout)
    }

    /// Starts `executable arguments…` and returns at once; the parameters are `run`'s.
    static func start(
        _ executable: String,
        _ arguments: [String],
        in directory: String? = nil,
        environment: [String: String] = [:],
        stdin: Data? = nil,
        stderr: ErrorOutput = .pipe
    ) async throws -> ChildProcess {
        try await BlockingThread.run {
            // A child starts with the signal mask of the thread that spawns it. This thread was made
            // from one of the cooperative pool's, which libdispatch has block nearly every signal:
            // a child started with that mask would never see a SIGTERM. Start it as a shell would.
            var none = sigset_t()
            sigemptyset(&none)
            pthread_sigmask(SIG_SETMASK, &none, nil)
            return try ChildProcess(executable, arguments, in: directory, environment: environment, stdin: stdin, stderr: stderr)
        }
    }

    deinit { kill() }

    // MARK: While it runs

    /// What it printed on stdout so far.
    var stdout: String { String(decoding: shared.state.withLock { $0.stdout }, as: UTF8.self) }
    /// What it printed on stderr (or its terminal) so far.
    var stderr: String { String(decoding: shared.state.withLock { $0.stderr }, as: UTF8.self) }

    /// Whether the process has exited and both of its output streams have closed.
    var hasFinished: Bool { shared.state.withLock { $0.finished } }

    /// Sends `signal` (SIGTERM, SIGKILL, …) unless the process has exited already.
    func send(_ signal: Int32) {
        if shared.state.withLock({ $0.termination == nil }) { sendSignal(pid, signal) }
    }

    /// SIGKILL if still running; safe to call any number of times.
    func kill() {
        send(SIGKILL)
    }

    /// Waits until `condition` holds, checking it again whenever the child prints something or exits.
    ///
    /// Fails at `timeout`, or as soon as the child has finished without the condition holding. A
    /// condition on something other than the child's output (a file it writes) is checked at each
    /// line it prints, so it suits children that print as they work.
    func waitFor(_ what: String, timeout: Duration = .seconds(10), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (generation, finished) = shared.state.withLock { ($0.generation, $0.finished) }
            if try condition() { return }
            if finished {
                throw TestFailure("\(command) ended (\(describeEnd())) while waiting for \(what)\n\(printed())")
            }
            if ContinuousClock.now >= deadline {
                throw TestFailure("timed out after \(timeout) waiting for \(what) from \(command)\n\(printed())")
            }
            await shared.change(after: generation, before: deadline)
        }
    }

    /// Waits for the exit and the end of its output; at `timeout` kills the process and throws.
    @discardableResult
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Exit {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (generation, exit) = shared.state.withLock { state in (state.generation, state.finished ? state.exit : nil) }
            if let exit { return exit }
            if ContinuousClock.now >= deadline {
                let exited = shared.state.withLock { $0.termination != nil }
                kill()
                throw TestFailure(exited
                    ? "\(command) exited but its output was still open after \(timeout) (a child of its own holds it?)\n\(printed())"
                    : "\(command) did not exit within \(timeout); killed it with SIGKILL\n\(printed())")
            }
            await shared.change(after: generation, before: deadline)
        }
    }

    /// Sends `signal`, then waits for the exit as `waitForExit` does.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(15)) async throws -> Exit {
        send(signal)
        return try await waitForExit(timeout: timeout)
    }

    // MARK: Private

    private init(
        _ executable: String,
        _ arguments: [String],
        in directory: String?,
        environment: [String: String],
        stdin: Data?,
        stderr: ErrorOutput
    ) throws {
        let shown = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments.map { $0.count > 60 ? String($0.prefix(57)) + "…" : $0 })
            .joined(separator: " ")
        let command = "`\(shown)`"
        self.command = command
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }

        let input = try stdin.map(Self.inputFile) ?? FileHandle.nullDevice
        defer { if stdin != nil { try? input.close() } }
        process.standardInput = input

        let out = Pipe()
        process.standardOutput = out
        // The parent's ends to read from; the child's ends the parent must close after the spawn
        // (Process closes a Pipe's write end itself, not a terminal's).
        let errReader: FileHandle
        var terminal: Int32?
        switch stderr {
        case .pipe:
            let err = Pipe()
            process.standardError = err
            errReader = err.fileHandleForReading
        case .terminal:
            var master: Int32 = -1
            var child: Int32 = -1
            guard openpty(&master, &child, nil, nil, nil) == 0 else { throw TestFailure("cannot open a pseudo-terminal") }
            process.standardError = FileHandle(fileDescriptor: child, closeOnDealloc: false)
            errReader = FileHandle(fileDescriptor: master, closeOnDealloc: true)
            terminal = child
        }

        let shared = Shared()
        process.terminationHandler = { [shared] process in
            let signal: Int32? = process.terminationReason == .uncaughtSignal ? process.terminationStatus : nil
            let status = signal.map { -$0 } ?? process.terminationStatus
            shared.update { $0.termination = (status, signal) }
        }
        do {
            try process.run()
        } catch {
            if let terminal { close(terminal) }
            throw TestFailure("cannot start \(command): \(error)")
        }
        // Only the child holds the terminal's end now, so reading its master ends when the child exits.
        if let terminal { close(terminal) }
        self.process = process
        self.shared = shared
        pid = process.processIdentifier
        Self.drain(out.fileHandleForReading, isStdout: true, into: shared)
        Self.drain(errReader, isStdout: false, into: shared)
    }

    /// `data` in an unlinked temporary file, open for reading from its start.
    private static func inputFile(_ data: Data) throws -> FileHandle {
        var template = Array("\(NSTemporaryDirectory())/hookspool-stdin-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw TestFailure("mkstemp failed for a child's standard input") }
        _ = template.withUnsafeBufferPointer { unlink($0.baseAddress!) }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try handle.write(contentsOf: data)
        try handle.seek(toOffset: 0)
        return handle
    }

    /// Reads `reader` to its end on a thread of its own, appending each chunk as it arrives.
    /// A terminal's master reports the end as EIO once no process holds the child's end.
    private static func drain(_ reader: FileHandle, isStdout: Bool, into shared: Shared) {
        BlockingThread.detach {
            let fd = reader.fileDescriptor
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    let chunk = Data(buffer[..<count])
                    shared.update { state in
                        if isStdout { state.stdout.append(chunk) } else { state.stderr.append(chunk) }
                    }
                } else if count < 0 && errno == EINTR {
                    continue
                } else {
                    break
                }
            }
            try? reader.close()
            shared.update { $0.openStreams -= 1 }
        }
    }

    private func describeEnd() -> String {
        guard let end = shared.state.withLock({ $0.termination }) else { return "still running, output closed" }
        return end.signal.map { "signal \($0)" } ?? "exit \(end.status)"
    }

    /// The tail of what the child printed, for failure messages.
    private func printed() -> String {
        "stdout: \(stdout.suffix(4000))\nstderr: \(stderr.suffix(4000))"
    }

    /// The child's output and end, and the waiters to wake when either changes.
    private final class Shared: Sendable {
        struct State {
            var stdout = Data()
            var stderr = Data()
            var openStreams = 2
            var termination: (status: Int32, signal: Int32?)?
            /// Counts changes, so a waiter can tell whether one happened since it last looked.
            var generation = 0
            var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
            var nextWaiter = 0

            var finished: Bool { termination != nil && openStreams == 0 }

            var exit: Exit {
                Exit(
                    status: termination?.status ?? 0,
                    signal: termination?.signal,
                    stdout: String(decoding: stdout, as: UTF8.self),
                    stderr: String(decoding: stderr, as: UTF8.self)
                )
            }
        }

        let state = Mutex(State())

        /// Applies `change` and wakes every waiter.
        func update(_ change: (inout State) -> Void) {
            let waiters = state.withLock { state in
                change(&state)
                state.generation += 1
                defer { state.waiters = [:] }
                return state.waiters
            }
            for waiter in waiters.values { waiter.resume() }
        }

        /// Returns after the next change once `generation` was seen, or at `deadline`, whichever is first.
        func change(after generation: Int, before deadline: ContinuousClock.Instant) async {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let id: Int? = state.withLock { state in
                    guard state.generation == generation else { return nil }
                    let id = state.nextWaiter
                    state.nextWaiter += 1
                    state.waiters[id] = continuation
                    return id
                }
                guard let id else {
                    continuation.resume()
                    return
                }
                let left = max(.zero, ContinuousClock.now.duration(to: deadline))
                let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
                }
            }
        }
    }
}

/// `kill(2)`, outside `ChildProcess`, whose own `kill()` hides the name.
private func sendSignal(_ pid: Int32, _ signal: Int32) {
    _ = kill(pid, signal)
}
