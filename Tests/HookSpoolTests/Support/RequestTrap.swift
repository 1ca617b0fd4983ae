#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A TCP listener on 127.0.0.1 that never answers. Given to Chromium as its proxy, it catches every
/// request the browser tries to make; read them after the browser exits.
final class RequestTrap {
    let port: Int
    private let fd: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, named == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw TestFailure("cannot listen on 127.0.0.1")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }

    /// The first line of every request that reached the trap so far (`GET http://host/path HTTP/1.1`, `CONNECT host:443 HTTP/1.1`).
    func requestLines() -> [String] {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var lines: [String] = []
        while true {
            let connection = accept(fd, nil, nil)
            guard connection >= 0 else { break }
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            var head = [UInt8](repeating: 0, count: 2048)
            var count = 0
            if poll(&poller, 1, 1000) > 0 {
                count = max(0, read(connection, &head, head.count))
            }
            close(connection)
            let text = String(decoding: head.prefix(count), as: UTF8.self)
            lines.append(String(text.split(separator: "\r\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? "(no request line)"))
        }
        return lines
    }
}
