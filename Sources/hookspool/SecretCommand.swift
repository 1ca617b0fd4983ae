import ArgumentParser
import WebhookSignature

/// `hookspool secret`: print a new random `whsec_` secret.
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Print a new random whsec_ secret (24 random bytes, standard base64).",
        discussion: "It works for every scheme: standard uses the bytes after whsec_, the others the whole text."
    )

    func run() throws {
        print(WebhookSecret.generate())
    }
}
