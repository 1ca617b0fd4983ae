#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

/// The tests' own child-process helper: what the other tests rely on when they run a program.
@Suite("Child process helper")
struct ChildProcessTests {
    @Test("stdout and stderr are kept apart, with the exit code and the working directory")
    func outputAndStatus() async throws {
        let ws = try TestWorkspace()
        let exit = try await ChildProcess.run("/bin/sh", ["-c", "pwd; echo to-stderr >&2; exit 3"], in: ws.root)
        #expect(exit.status == 3 && exit.exitedNormally && exit.signal == nil)
        #expect(exit.stdout.hasSuffix("/" + URL(fileURLWithPath: ws.root).lastPathComponent + "\n"), "\(exit.stdout)")
        #expect(exit.stderr == "to-stderr\n")
        #expect(exit.output == exit.stdout + exit.stderr)
    }

    @Test("megabytes on both streams at once do not block the child", .timeLimit(.minutes(1)))
    func largeOutput() async throws {
        let script = "head -c 3000000 /dev/zero | tr '\\0' e >&2 & head -c 5000000 /dev/zero | tr '\\0' o; wait"
        let exit = try await ChildProcess.run("/bin/sh", ["-c", script], timeout: .seconds(30))
        #expect(exit.status == 0, "\(exit.stderr.suffix(200))")
        #expect(exit.stdout.utf8.count == 5_000_000 && exit.stdout.utf8.allSatisfy { $0 == UInt8(ascii: "o") })
        #expect(exit.stderr.utf8.count == 3_000_000 && exit.stderr.utf8.allSatisfy { $0 == UInt8(ascii: "e") })
    }

    @Test("stdin reaches the child; a child that never reads a large stdin does not end the test process with SIGPIPE")
    func standardInput() async throws {
        let echoed = try await ChildProcess.run("/bin/cat", [], stdin: Data("one\ntwo\n".utf8))
        #expect(echoed.status == 0 && echoed.stdout == "one\ntwo\n")
        let ignored = try await ChildProcess.run("/bin/sh", ["-c", "exit 0"], stdin: Data(repeating: 0x61, count: 4 << 20))
        #expect(ignored.status == 0)
        let none = try await ChildProcess.run("/bin/cat", [])
        #expect(none.status == 0 && none.stdout.isEmpty, "no stdin given is /dev/null")
    }

    @Test("the environment is the test process's with the given values added")
    func environment() async throws {
        let exit = try await ChildProcess.run("/bin/sh", ["-c", #"printf '%s|%s' "$CHILD_PROCESS_TEST" "$PATH""#], environment: ["CHILD_PROCESS_TEST": "given"])
        #expect(exit.stdout == "given|\(ProcessInfo.processInfo.environment["PATH"] ?? "")")
    }

    @Test("a child still running at the timeout is killed and the wait fails, naming it and saying what it printed", .timeLimit(.minutes(1)))
    func timeout() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        do {
            _ = try await ChildProcess.run("/bin/sh", ["-c", "echo begun; exec sleep 60"], timeout: .milliseconds(500))
            Issue.record("a child that outlived its timeout returned")
        } catch let failure as TestFailure {
            #expect(failure.description.contains("did not exit within"), "\(failure)")
            #expect(failure.description.contains("`sh -c"), "\(failure)")
            #expect(failure.description.contains("begun"), "what it printed is in the message: \(failure)")
        }
        #expect(started.duration(to: clock.now) < .seconds(10))

        // The same wait on a background child, which can be waited on again to see the kill.
        let child = try await ChildProcess.start("/bin/sh", ["-c", "exec sleep 60"])
        defer { child.kill() }
        await #expect(throws: TestFailure.self) { try await child.waitForExit(timeout: .milliseconds(300)) }
        let killed = try await child.waitForExit(timeout: .seconds(10))
        #expect(killed.signal == SIGKILL && killed.status == -SIGKILL)
    }

    @Test("a background child: waitFor wakes on its output, a signal ends it and shows as minus the signal")
    func background() async throws {
        let child = try await ChildProcess.start("/bin/sh", ["-c", "echo ready; exec sleep 60"])
        defer { child.kill() }
        try await child.waitFor("ready", timeout: .seconds(10)) { child.stdout == "ready\n" }
        #expect(!child.hasFinished)
        let exit = try await child.stop(signal: SIGTERM, timeout: .seconds(10))
        #expect(exit.status == -SIGTERM && exit.signal == SIGTERM && !exit.exitedNormally)
        #expect(exit.stdout == "ready\n")
    }

    @Test("waitFor fails at once when the child ends without the condition holding")
    func waitForEndedChild() async throws {
        let child = try await ChildProcess.start("/bin/sh", ["-c", "echo something else"])
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: TestFailure.self) {
            try await child.waitFor("never", timeout: .seconds(30)) { child.stdout.contains("never printed") }
        }
        #expect(started.duration(to: clock.now) < .seconds(10), "it did not wait out the timeout")
        let exit = try await child.waitForExit(timeout: .seconds(10))
        #expect(exit.status == 0 && exit.stdout == "something else\n")
    }

    @Test("stderr on a pseudo-terminal: the child sees a terminal there and its output is collected")
    func terminal() async throws {
        let exit = try await ChildProcess.run("/bin/sh", ["-c", "if [ -t 2 ]; then echo tty >&2; else echo notty >&2; fi; [ -t 1 ] || echo pipe"], stderr: .terminal)
        #expect(exit.status == 0)
        #expect(exit.stderr == "tty\r\n", "\(exit.stderr.debugDescription)")
        #expect(exit.stdout == "pipe\n")
    }

    @Test("a program that cannot be started throws, saying which")
    func missingProgram() async throws {
        await #expect(throws: TestFailure.self) {
            _ = try await ChildProcess.run("/nonexistent/program", [])
        }
    }
}
