import Crypto

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// HMAC-SHA256 (RFC 2104) under one key, its padded key hashed once.
///
/// In place of swift-crypto's `HMAC<SHA256>`, for a measured reason: that type takes its message
/// only through a generic `DataProtocol` path, which cannot be specialized from outside its
/// module, and which cost more than the hashing itself (4.4% of a run's samples for the
/// signature's HMAC, 1.7% of them in SHA-256; see benchmarks/README.md). This one feeds
/// swift-crypto's `SHA256` raw buffers; tests check it against `HMAC<SHA256>`.
struct KeyedMAC: Sendable {
    /// SHA-256 having absorbed the key XOR ipad, and the key XOR opad.
    private let inner: SHA256
    private let outer: SHA256

    init(key: [UInt8]) {
        var block = key.count > SHA256.blockByteCount ? Array(SHA256.hash(data: key)) : key
        block.append(contentsOf: repeatElement(0, count: SHA256.blockByteCount - block.count))
        var inner = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        var outer = SHA256()
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    /// The MAC of `prefix` followed by `body`.
    func code(prefix: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer) -> SHA256Digest {
        var inner = self.inner
        if !prefix.isEmpty { inner.update(bufferPointer: prefix) }
        if !body.isEmpty { inner.update(bufferPointer: body) }
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }

    /// The MAC of `prefix` followed by `body`, for any bytes.
    func code(prefix: [UInt8], body: some DataProtocol) -> SHA256Digest {
        prefix.withUnsafeBytes { prefix in
            if let code = body.withContiguousStorageIfAvailable({ code(prefix: prefix, body: UnsafeRawBufferPointer($0)) }) {
                return code
            }
            return Array(body).withUnsafeBytes { code(prefix: prefix, body: $0) }
        }
    }
}
