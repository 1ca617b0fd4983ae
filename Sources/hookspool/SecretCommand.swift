import ArgumentParser
import WebhookSignature

/// `hookspool secret`: print a new random `whsec_` secret, or a `whsk_`/`whpk_` ed25519 key pair.
struct SecretCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret",
        abstract: "Print a new random whsec_ secret (24 random bytes, standard base64), or an ed25519 key pair.",
        discussion: """
            A whsec_ secret works for every scheme: standard uses the bytes after whsec_, the others the whole text.
            With --asymmetric it prints two lines: the whsk_ secret key, which signs Standard Webhooks v1a \
            (put it in the config), then the whpk_ public key, which only verifies (give it to the receiver).
            """
    )

    @Flag(name: .long, help: "Print an ed25519 key pair for signature: standard (v1a): the whsk_ key, then the whpk_ key.")
    var asymmetric = false

    func run() throws {
        if asymmetric {
            let pair = WebhookSecret.generateKeyPair()
            print(pair.secretKey)
            print(pair.publicKey)
        } else {
            print(WebhookSecret.generate())
        }
    }
}
