import Foundation

/// A TCP socket on 127.0.0.1 that accepts connections into its backlog and never answers: a hanging receiver.
final class SilentListener {
    let port: Int
    private let fd: Int32

    init() throws {
        (fd, port) = try Self.bind()
        guard listen(fd, 64) == 0 else { throw TestFailure("listen failed") }
    }

    deinit { close(fd) }

    /// A port on 127.0.0.1 that refuses connections for as long as the returned socket lives:
    /// bound but not listening, so no other test's server can be handed the same port meanwhile.
    static func refusingPort() throws -> RefusingPort {
        let (fd, port) = try bind()
        return RefusingPort(fd: fd, port: port)
    }

    private static func bind() throws -> (Int32, Int) {
        #if canImport(Darwin)
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #else
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #endif
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { close(fd); throw TestFailure("bind failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { close(fd); throw TestFailure("getsockname failed") }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// A bound, never-listening socket: connections to its port are refused.
final class RefusingPort {
    let port: Int
    private let fd: Int32

    fileprivate init(fd: Int32, port: Int) {
        self.fd = fd
        self.port = port
    }

    deinit { close(fd) }
}
