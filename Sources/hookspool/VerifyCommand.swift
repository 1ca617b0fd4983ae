import ArgumentParser
import Foundation
import HookSpool
import HookSpoolReceiver
import WebhookSignature

/// `hookspool verify`: check one delivery's signature; exit 0 when valid, 1 when not, with the reason.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify one delivery's signature: exit 0 and print valid, or exit 1 and the reason.",
        discussion: """
            The body is read from standard input unless --body-file is given, and must be the bytes exactly as sent. \
            Exit codes: 0 valid; 1 invalid; 64 usage error (no --secret, a malformed --header); 65 bad input data \
            (a secret that cannot be resolved or used, a malformed line in --headers-file); 74 a file cannot be read.
            """
    )

    @OptionGroup var signature: SignatureOptions

    @Option(name: .long, help: ArgumentHelp("A header as received, 'Name: value' (repeatable).", valueName: "header"))
    var header: [String] = []

    @Option(name: .long, help: ArgumentHelp("A file of headers, one 'Name: value' per line; --header adds to it.", valueName: "file"))
    var headersFile: String?

    @Option(name: .long, help: ArgumentHelp("Read the body from this file instead of standard input ('-' is standard input).", valueName: "file"))
    var bodyFile: String?

    func validate() throws {
        for text in header {
            do {
                _ = try HeaderLine(text)
            } catch {
                throw ValidationError("--header: \(error.description)")
            }
        }
    }

    func run() throws {
        let verifier: WebhookVerifier
        do {
            verifier = try WebhookVerifier(scheme: signature.scheme, secrets: signature.resolvedSecrets(), tolerance: signature.tolerance)
        } catch let error as WebhookSecretError {
            printError("hookspool: \(error.description)")
            throw ExitCode(ExitStatus.dataError.rawValue)
        }

        var headers: [HeaderLine] = []
        if let headersFile {
            let text = try readInput(headersFile, what: "headers file")
            do {
                headers = try HeaderLine.parseFile(String(decoding: text, as: UTF8.self))
            } catch {
                printError("hookspool: headers file \(headersFile): \(error.description)")
                throw ExitCode(ExitStatus.dataError.rawValue)
            }
        }
        // validate() has parsed every --header already.
        headers += header.compactMap { try? HeaderLine($0) }

        let body = try readInput(bodyFile ?? "-", what: "body file")
        do {
            let verified = try verifier.verify(headers: headers.map(\.pair), body: body)
            var line = "valid"
            if let id = verified.id ?? VerifyingReceiver.eventID(body: body) { line += " id=\(id)" }
            if let timestamp = verified.timestamp { line += " timestamp=\(timestamp)" }
            print(line)
        } catch {
            print("invalid (\(error.code)): \(error.description)")
            throw ExitCode(ExitStatus.failures.rawValue)
        }
    }

    /// The bytes of `path` ('-' is standard input); prints the reason and exits 74 when it cannot be read.
    private func readInput(_ path: String, what: String) throws -> [UInt8] {
        let name = path == "-" ? "standard input" : path
        let fd = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
        var bytes: [UInt8] = []
        var failure = fd < 0 ? errno : 0
        if fd >= 0 {
            defer { if fd != 0 { close(fd) } }
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { failure = errno }
                if count <= 0 { break }
                bytes += chunk[0..<count]
            }
        }
        guard failure == 0 else {
            printError("hookspool: cannot read \(what) \(name): \(String(cString: strerror(failure)))")
            throw ExitCode(ExitStatus.ioError.rawValue)
        }
        return bytes
    }
}
