#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// A real proxy from Debian's packages, run as a child on a loopback port: tinyproxy (HTTP,
/// `CONNECT` and absolute-form) or microsocks (SOCKS5).
///
/// Without the program a test is skipped on a developer's machine; under `CI=true` it fails.
final class ProxyServer: Sendable {
    enum Kind: Sendable {
        /// tinyproxy; with `credentials`, it wants them (`BasicAuth`).
        case http(credentials: (user: String, password: String)? = nil)
        case socks5
    }

    let port: Int
    private let child: ChildProcess

    private init(port: Int, child: ChildProcess) {
        self.port = port
        self.child = child
    }

    deinit { child.kill() }

    /// The program for `kind`, if this machine has it.
    static func program(_ kind: Kind) -> String? {
        switch kind {
        case .http: ReportTools.which("tinyproxy")
        case .socks5: ReportTools.which("microsocks")
        }
    }

    /// Whether the proxy can run here; throws under CI when it cannot (so CI never passes by skipping).
    static func available(_ kind: Kind) throws -> Bool {
        if program(kind) != nil { return true }
        if ReportTools.isCI { throw TestFailure("tinyproxy and microsocks are required (CI=true): apt-get install tinyproxy microsocks") }
        return false
    }

    /// Starts the proxy in `folder` and returns once it accepts connections.
    static func start(_ kind: Kind, in folder: String) async throws -> ProxyServer {
        guard let program = program(kind) else { throw TestFailure("no proxy program for \(kind)") }
        let port = try unusedLoopbackPort()
        let child: ChildProcess
        switch kind {
        case .http(let credentials):
            var lines = ["Port \(port)", "Listen 127.0.0.1", "Timeout 30", "LogLevel Info", "MaxClients 200", "Allow 127.0.0.1"]
            if let credentials { lines.append("BasicAuth \(credentials.user) \(credentials.password)") }
            let file = folder + "/tinyproxy-\(port).conf"
            try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            child = try await ChildProcess.start(program, ["-d", "-c", file])
        case .socks5:
            child = try await ChildProcess.start(program, ["-i", "127.0.0.1", "-p", "\(port)"])
        }
        // Neither program says when it listens: try to connect until it accepts, it ends, or 10 s pass.
        let deadline = ContinuousClock.now + .seconds(10)
        while !accepts(port: port) {
            if child.hasFinished { throw TestFailure("\(program) ended before it listened on \(port)\n\(child.stderr)") }
            if ContinuousClock.now >= deadline {
                child.kill()
                throw TestFailure("\(program) did not listen on \(port) within 10 s\n\(child.stderr)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return ProxyServer(port: port, child: child)
    }

    /// Stops the proxy, so that connecting to it is refused.
    func stop() async throws {
        try await child.stop()
    }

    /// What the proxy logged (tinyproxy logs each request), for failure messages and checks.
    var log: String { child.stdout + child.stderr }

    /// A loopback TCP port nothing listens on now.
    static func unusedLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("bind: \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connection to 127.0.0.1:`port` is accepted.
    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
