import ArgumentParser
import HookSpool
import WebhookSignature

/// The options `verify` and `receive` share: secrets, scheme and timestamp tolerance.
struct SignatureOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A secret a signature may be made with: env:NAME, file:PATH or the secret itself (repeat it during a rotation).",
            discussion: "Prefer env: or file:, since a literal secret shows in the process list.",
            valueName: "secret"
        )
    )
    var secret: [String] = []

    @Option(name: .long, help: "The signature scheme the sender uses.")
    var scheme: SignatureScheme = .standard

    @Option(
        name: .long,
        help: ArgumentHelp("How far the signed timestamp may be from now, either way (default 5m).", valueName: "duration"),
        transform: parseDuration
    )
    var tolerance: Duration = .seconds(300)

    func validate() throws {
        guard !secret.isEmpty else {
            throw ValidationError("Give at least one --secret (env:NAME, file:PATH or the secret itself).")
        }
    }

    /// The secrets with `env:` and `file:` resolved; prints the problem and exits 65 when one cannot be.
    func resolvedSecrets() throws -> [String] {
        var secrets: [String] = []
        for (index, reference) in secret.enumerated() {
            do {
                secrets.append(try CommandLineValues.secret(reference))
            } catch {
                printError("hookspool: --secret #\(index + 1): \(error.description)")
                throw ExitCode(ExitStatus.dataError.rawValue)
            }
        }
        return secrets
    }
}

/// Reads a duration option written as in the config; a mistake is a usage error.
func parseDuration(_ text: String) throws -> Duration {
    guard let duration = CommandLineValues.duration(text) else {
        throw ValidationError("'\(text)' is not a duration; write e.g. 250ms, 10s, 5m, 1h")
    }
    return duration
}

extension SignatureScheme: ExpressibleByArgument {}
