import NIOCore
import NIOHTTP1

/// A POST's bytes on the wire: request line, headers and body in one buffer, the headers checked
/// as NIO's `NIOHTTPRequestHeadersValidator` checks them. The target is only kept free of spaces
/// and control characters, which could end the request line: it comes from the config's URL,
/// percent-encoded, where NIO's validator also refuses a few printable characters.
///
/// The request line and the headers that are the same on every request to an endpoint are checked
/// and encoded once (`prefix`); each request copies them and adds its own.
///
/// In place of NIOHTTP1's `HTTPRequestEncoder` and `NIOHTTPRequestHeadersValidator`, for a measured
/// reason: a request's way from the exchange handler to the socket took 18% of the process's
/// user-space samples through them (head, body and end, three trips through the pipeline) and takes
/// 11%, this encoding's 2% included (benchmarks/README.md).
enum RequestEncoding {
    /// `POST target HTTP/1.1` and `headers`, each line ended, or nil when the target or a header
    /// would break the message (a control character, a line break in a value, a name that is not
    /// an RFC 9110 token).
    static func prefix(target: String, headers: [(name: String, value: String)]) -> [UInt8]? {
        guard !target.isEmpty else { return nil }
        // "POST " and " HTTP/1.1\r\n"; each header adds ": " and "\r\n".
        var size = 16 + target.utf8.count
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var valid = true
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { memory, count in
            var out = Output(memory: UnsafeMutableRawBufferPointer(memory))
            out.put("POST ")
            valid = out.put(target, isTargetByte)
            out.put(" HTTP/1.1\r\n")
            if valid { valid = out.put(headers) }
            count = valid ? out.count : 0
        }
        return valid ? bytes : nil
    }

    /// A request: `prefix`, `Content-Length`, `headers`, the blank line and `body`; nil when a header
    /// would break the message.
    static func post(prefix: [UInt8], headers: [(name: String, value: String)], body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        let length = String(body.readableBytes)
        // "Content-Length: " and its "\r\n", the blank line.
        var size = prefix.count + 18 + length.utf8.count + 2
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var buffer = allocator.buffer(capacity: size + body.readableBytes)
        var valid = true
        // One pass over each string: checked as it is copied, straight into the buffer's memory.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { memory in
            var out = Output(memory: memory)
            prefix.withUnsafeBytes { out.put($0) }
            out.put("Content-Length: ")
            _ = out.put(length, isValueByte)
            out.put("\r\n")
            valid = out.put(headers)
            out.put("\r\n")
            return valid ? out.count : 0
        }
        guard valid else { return nil }
        buffer.writeImmutableBuffer(body)
        return buffer
    }

    /// Bytes copied into memory that has room for them all (`post` measured them first).
    private struct Output {
        let memory: UnsafeMutableRawBufferPointer
        var count = 0

        mutating func put(_ text: StaticString) {
            put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }

        mutating func put(_ bytes: UnsafeRawBufferPointer) {
            // copyMemory checks the room only in debug builds: a miscount must trap, not overwrite.
            precondition(count + bytes.count <= memory.count)
            UnsafeMutableRawBufferPointer(rebasing: memory[count...]).copyMemory(from: bytes)
            count += bytes.count
        }

        /// Copies each header as `name: value` and its line end; false at the first that is not valid.
        mutating func put(_ headers: [(name: String, value: String)]) -> Bool {
            for (name, value) in headers {
                guard !name.isEmpty, put(name, isNameByte) else { return false }
                put(": ")
                guard put(value, isValueByte) else { return false }
                put("\r\n")
            }
            return true
        }

        /// Copies `text`; false, and nothing copied, when a byte fails `test`.
        mutating func put(_ text: String, _ test: (UInt8) -> Bool) -> Bool {
            var text = text
            return text.withUTF8 { bytes in
                guard bytes.allSatisfy(test) else { return false }
                precondition(count + bytes.count <= memory.count)
                UnsafeMutableRawBufferPointer(rebasing: memory[count...]).copyMemory(from: UnsafeRawBufferPointer(bytes))
                count += bytes.count
                return true
            }
        }
    }

    /// A request-target byte: printable ASCII other than space (URLs are percent-encoded by then).
    @inline(__always)
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7F
    }

    /// An RFC 9110 `tchar`.
    @inline(__always)
    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    /// A field-value byte: anything but ASCII control characters, horizontal tab excepted.
    @inline(__always)
    static func isValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }
}

/// Sits where NIO's request encoder would: passes a request's encoded bytes (sent as its `.body`)
/// to the socket and drops the `.head` and `.end` around them, which are only there for the
/// response decoder above to see that a POST is waiting for an answer.
final class EncodedRequestWriter: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = IOData

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .body(let bytes):
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .head, .end:
            promise?.succeed(())
        }
    }
}
