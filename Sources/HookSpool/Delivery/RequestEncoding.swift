import NIOCore
import NIOHTTP1

/// A POST's bytes on the wire: request line, headers and body in one buffer, the headers checked
/// as NIO's `NIOHTTPRequestHeadersValidator` checks them.
///
/// In place of NIOHTTP1's `HTTPRequestEncoder` and `NIOHTTPRequestHeadersValidator`, for a measured
/// reason: a request's way from the exchange handler to the socket took 18% of the process's
/// user-space samples through them (head, body and end, three trips through the pipeline) and takes 9% plus
/// this encoding's 5% (benchmarks/README.md).
enum RequestEncoding {
    /// The request, or nil when the target or a header would break the message (a control
    /// character, a line break in a value, a name that is not an RFC 9110 token).
    static func post(target: String, headers: HTTPHeaders, body: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard !target.isEmpty, target.utf8.allSatisfy(isTargetByte) else { return nil }
        var size = 17 + target.utf8.count + body.readableBytes
        for (name, value) in headers { size += name.utf8.count + value.utf8.count + 4 }
        var buffer = allocator.buffer(capacity: size)
        buffer.writeStaticString("POST ")
        buffer.writeString(target)
        buffer.writeStaticString(" HTTP/1.1\r\n")
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(isNameByte), value.utf8.allSatisfy(isValueByte) else { return nil }
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        buffer.writeStaticString("\r\n")
        buffer.writeImmutableBuffer(body)
        return buffer
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
