import ArgumentParser
import Foundation
import HookSpool
import HookSpoolReceiver
import Logging
import NIOCore
import WebhookSignature

/// `hookspool receive`: a verifying receiver that stores each accepted event once, durably, in an NDJSON file.
struct ReceiveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receive",
        abstract: "Run a verifying webhook receiver that appends each accepted event, once, to a file.",
        discussion: """
            Prints 'listening on HOST:PORT' once it listens (with --port 0, the port it was given), and on SIGINT or \
            SIGTERM the counts of what it did, then exits 0. Every request is verified: 401 for a bad or missing \
            signature or a stale or future timestamp, 403 for a peer outside --allow-ip. Each event (the body, a \
            JSON object whose "id" is signed with it) is appended to --out as one line and fsynced before the 200; \
            an id seen before, also by an earlier run on the same --out, gets 200 and is not stored again. \
            Exit codes: 0 stopped by a signal; 64 usage error; 65 a secret that cannot be resolved or used; \
            74 --out cannot be used or the address cannot be listened on.
            """
    )

    @Option(name: .long, help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "The port to listen on; 0 picks a free one.")
    var port: Int

    @OptionGroup var signature: SignatureOptions

    @Option(name: .long, help: ArgumentHelp("Append each accepted event to this NDJSON file; the ids in it count as seen.", valueName: "file"))
    var out: String?

    @Option(
        name: .customLong("allow-ip"),
        help: ArgumentHelp("Only accept requests from this network, e.g. 10.0.0.0/8 or 2001:db8::/32 (repeatable).", valueName: "cidr"),
        transform: parseNetwork
    )
    var allowIP: [IPNetwork] = []

    @Option(name: .long, help: ArgumentHelp("Answer 503 to the first N attempts of each event id.", valueName: "n"))
    var failFirst: Int = 0

    @Option(name: .long, help: ArgumentHelp("Answer CODE to every verified request (a non-2xx CODE stores nothing).", valueName: "code"))
    var status: Int?

    @Option(name: .long, help: ArgumentHelp("Wait this long before every answer, e.g. 200ms.", valueName: "duration"), transform: parseDuration)
    var delay: Duration?

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard failFirst >= 0 else { throw ValidationError("--fail-first must be 0 or more") }
        if let status, !(200...599).contains(status) { throw ValidationError("--status must be 200...599") }
    }

    func run() async throws {
        var options = ReceiverOptions(secrets: try signature.resolvedSecrets())
        options.host = host
        options.port = port
        options.scheme = signature.scheme
        options.tolerance = signature.tolerance
        options.allowedNetworks = allowIP
        options.outputPath = out
        options.failFirst = failFirst
        options.status = status
        options.delay = delay

        let logger = logging.makeLogger(label: "hookspool.receive")
        let receiver: VerifyingReceiver
        do {
            receiver = try VerifyingReceiver(options: options, logger: logger)
        } catch let error as WebhookSecretError {
            printError("hookspool: \(error.description)")
            throw ExitCode(ExitStatus.dataError.rawValue)
        } catch let error as FileSystemError where error.code == EWOULDBLOCK {
            printError("hookspool: cannot use --out \(out ?? ""): another hookspool receive is writing to it")
            throw ExitCode(ExitStatus.ioError.rawValue)
        } catch {
            printError("hookspool: cannot use --out: \(error)")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        let recovery = receiver.sink.recovery
        if let out {
            printError("hookspool: \(out): \(recovery.ids) event ids already stored")
            if recovery.tornBytes > 0 {
                printError("hookspool: \(out): cut off an unfinished last line (\(recovery.tornBytes) bytes, never acknowledged)")
            }
            if recovery.unreadableLines > 0 {
                printError("hookspool: \(out): \(recovery.unreadableLines) lines have no readable id; kept as they are")
            }
        }

        do {
            try await receiver.run { address in
                let shown = address.protocol == .inet6 ? "[\(address.ipAddress ?? host)]" : (address.ipAddress ?? host)
                print("listening on \(shown):\(address.port ?? port)")
                fflush(nil)  // scripts and tests wait for this line
            }
        } catch {
            printError("hookspool: the receiver stopped: \(error)")
            print(receiver.statistics.snapshot.summary)
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        print(receiver.statistics.snapshot.summary)
    }
}

/// Reads an `--allow-ip` network; a mistake is a usage error.
private func parseNetwork(_ text: String) throws -> IPNetwork {
    guard let network = IPNetwork(text) else {
        throw ValidationError("'\(text)' is not an address or network; write e.g. 10.0.0.0/8, 127.0.0.1 or 2001:db8::/32")
    }
    return network
}
