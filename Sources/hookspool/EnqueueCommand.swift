#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Foundation
import HookSpool

/// `hookspool enqueue [FILE…]`: hand NDJSON over to the spool safely, checked line by line.
struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Check NDJSON events and hand them over atomically into the spool's incoming/ folder.",
        discussion: """
            Reads each FILE (or standard input, also as '-'), checks every line as a run would, and \
            only then writes it as one new spool file: a hidden temporary name in incoming/, fsync, \
            rename, fsync of the folder. Prints each new file's path. A bad line in any input \
            enqueues nothing: exit 65, each bad line's number and reason on standard error. \
            Exit 74 when the spool cannot be written; 78 for a config error. A producer that may not \
            read the config (it names the secrets) gives --spool instead: lines are then checked with \
            the default limits.
            """
    )

    @Argument(help: "NDJSON files to enqueue, one spool file each; none or '-': standard input.")
    var files: [String] = []

    @OptionGroup var configOptions: ConfigOptions

    @Option(name: .long, help: ArgumentHelp("The spool folder, instead of reading the config; lines are checked with the default limits (1 MiB a line).", valueName: "DIR"))
    var spool: String?

    func validate() throws {
        if spool != nil && configOptions.config != ConfigOptions.defaultPath {
            throw ValidationError("give --config or --spool, not both")
        }
    }

    func run() throws {
        let limits: Limits
        let spool: Spool
        if let folder = self.spool {
            limits = Limits()
            spool = Spool(root: URL(fileURLWithPath: folder).standardizedFileURL.path, maxFileBytes: limits.maxFileBytes)
        } else {
            let config = try configOptions.load()
            limits = config.limits
            spool = Spool(root: config.spoolDirectory, maxFileBytes: limits.maxFileBytes)
        }
        // Every input is checked and staged before any is handed over: a bad line anywhere enqueues nothing.
        var staged: [Enqueue.Staged] = []
        var failed = false
        for source in files.isEmpty ? ["-"] : files {
            let fd = source == "-" ? 0 : open(source, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                printError("hookspool enqueue: cannot open \(source): \(String(cString: strerror(errno)))")
                failed = true
                continue
            }
            defer { if fd != 0 { close(fd) } }
            do {
                staged.append(try Enqueue.stage(from: fd, source: source, stem: source == "-" ? "stdin" : Self.stem(of: source), spool: spool, limits: limits))
            } catch .badLines(let lines) {
                for line in lines { printError("hookspool enqueue: \(line)") }
                failed = true
            } catch .unusable(let why) {
                printError("hookspool enqueue: \(why)")
                failed = true
            } catch .noSpool(let why) {
                staged.forEach { $0.discard() }
                printError("hookspool enqueue: \(why); nothing enqueued")
                throw ExitCode(ExitStatus.ioError.rawValue)
            } catch .io(let error) {
                staged.forEach { $0.discard() }
                printError("hookspool enqueue: \(error); nothing enqueued")
                throw ExitCode(ExitStatus.ioError.rawValue)
            }
        }
        guard !failed else {
            staged.forEach { $0.discard() }
            printError("hookspool enqueue: nothing enqueued")
            throw ExitCode(ExitStatus.dataError.rawValue)
        }
        var unsynced: FileSystemError?
        for (index, file) in staged.enumerated() {
            do {
                if let failure = try file.commit() { unsynced = failure }
            } catch {
                staged[(index + 1)...].forEach { $0.discard() }
                let done = staged[..<index].map { "\(spool.incoming)/\($0.name)" }
                printError("hookspool enqueue: \(error)\(done.isEmpty ? "; nothing enqueued" : "; enqueued before it: \(done.joined(separator: ", "))")")
                throw ExitCode(ExitStatus.ioError.rawValue)
            }
            print("\(spool.incoming)/\(file.name)")
        }
        if let unsynced {
            // Handed over, so a retry would deliver the events twice; but a power loss could still undo it.
            printError("hookspool enqueue: the files printed are enqueued (do not enqueue them again), but \(unsynced): they may not survive a power loss")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
    }

    /// A file's name without its folder and `.ndjson`/`.jsonl`.
    static func stem(of path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        for ext in [".ndjson", ".jsonl", ".json"] where name.hasSuffix(ext) { return String(name.dropLast(ext.count)) }
        return name
    }
}
