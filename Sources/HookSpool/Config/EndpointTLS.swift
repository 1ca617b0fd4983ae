import Foundation
import NIOSSL

/// An endpoint's TLS settings (`tls:` in the config): a private CA to trust, and a client
/// certificate and key for mutual TLS.
///
/// The files are read and parsed when the config loads, so a run never meets a bad file. Two
/// settings are equal when they name the same files; endpoints with equal settings share one
/// HTTP client and its connection pool.
public struct EndpointTLS: Sendable, Hashable {
    /// PEM file of the CA certificates trusted for this endpoint, instead of the system's roots.
    public var caFile: String?
    /// PEM file of the client certificate (chain) presented to the endpoint; set with `keyFile`.
    public var certFile: String?
    /// PEM file of the client certificate's private key; set with `certFile`.
    public var keyFile: String?

    /// The certificates of `caFile`.
    public let trustRoots: [NIOSSLCertificate]
    /// The certificates of `certFile`, leaf first.
    public let certificateChain: [NIOSSLCertificate]
    /// The key of `keyFile`. Never printed.
    public let privateKey: NIOSSLPrivateKey?

    /// What went wrong reading one of the files, and which.
    public struct LoadError: Error, Sendable, CustomStringConvertible {
        /// `ca_file`, `cert_file` or `key_file`.
        public var key: String
        public var description: String
    }

    /// Reads and parses the given files (absolute paths).
    ///
    /// - Throws: `LoadError` naming the key whose file is unreadable or holds no PEM certificate or key.
    public init(caFile: String?, certFile: String?, keyFile: String?) throws(LoadError) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        trustRoots = try caFile.map { file throws(LoadError) in try Self.certificates(file, key: "ca_file") } ?? []
        certificateChain = try certFile.map { file throws(LoadError) in try Self.certificates(file, key: "cert_file") } ?? []
        if let keyFile {
            let bytes = try Self.read(keyFile, key: "key_file")
            do {
                privateKey = try NIOSSLPrivateKey(bytes: bytes, format: .pem)
            } catch {
                throw LoadError(key: "key_file", description: "\(keyFile) holds no readable PEM private key (encrypted keys are not supported)")
            }
        } else {
            privateKey = nil
        }
    }

    /// The client TLS configuration: these roots (or the system's), this client certificate if any.
    public var configuration: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !trustRoots.isEmpty { tls.trustRoots = .certificates(trustRoots) }
        if !certificateChain.isEmpty, let privateKey {
            tls.certificateChain = certificateChain.map { .certificate($0) }
            tls.privateKey = .privateKey(privateKey)
        }
        return tls
    }

    public static func == (lhs: EndpointTLS, rhs: EndpointTLS) -> Bool {
        lhs.caFile == rhs.caFile && lhs.certFile == rhs.certFile && lhs.keyFile == rhs.keyFile
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(caFile)
        hasher.combine(certFile)
        hasher.combine(keyFile)
    }

    private static func certificates(_ file: String, key: String) throws(LoadError) -> [NIOSSLCertificate] {
        let bytes = try read(file, key: key)
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMBytes(bytes)
        } catch {
            throw LoadError(key: key, description: "\(file) holds no readable PEM certificate")
        }
        guard !certificates.isEmpty else {
            throw LoadError(key: key, description: "\(file) holds no PEM certificate")
        }
        return certificates
    }

    private static func read(_ file: String, key: String) throws(LoadError) -> [UInt8] {
        do {
            return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw LoadError(key: key, description: "cannot read \(file): \(FileSystemError.describe(error))")
        }
    }
}
