/// Hex and base64 codecs, constant-time comparison and small ASCII helpers, without Foundation formatting.
enum Encoding {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let base64Alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )
    private static let invalid: UInt8 = 0xFF
    /// ASCII byte → base64 value, or `invalid`.
    private static let base64Values: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, char) in base64Alphabet.enumerated() { table[Int(char)] = UInt8(value) }
        return table
    }()
    /// ASCII byte → hex nibble (either case), or `invalid`.
    private static let hexValues: [UInt8] = {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, char) in hexDigits.enumerated() { table[Int(char)] = UInt8(value) }
        for (value, char) in "ABCDEF".utf8.enumerated() { table[Int(char)] = UInt8(value + 10) }
        return table
    }()

    // MARK: Hex

    /// Lowercase hex of `bytes`.
    static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for byte in bytes {
                out[i] = hexDigits[Int(byte >> 4)]
                out[i + 1] = hexDigits[Int(byte & 0x0F)]
                i += 2
            }
            return i
        }
    }

    /// Bytes of a hex string (either case), or `nil` if it has an odd length or a non-hex character.
    static func decodeHex(_ string: Substring) -> [UInt8]? {
        let utf8 = string.utf8
        guard utf8.count % 2 == 0 else { return nil }
        var result = [UInt8]()
        result.reserveCapacity(utf8.count / 2)
        var high: UInt8? = nil
        for char in utf8 {
            let value = hexValues[Int(char)]
            guard value != invalid else { return nil }
            if let h = high {
                result.append(h << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return result
    }

    // MARK: Base64

    /// Standard base64 of `bytes`, with padding.
    static func base64(_ bytes: UnsafeRawBufferPointer) -> String {
        let outCount = (bytes.count + 2) / 3 * 4
        return String(unsafeUninitializedCapacity: outCount) { out in
            var i = 0
            var o = 0
            let n = bytes.count
            while i + 3 <= n {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                out[o] = base64Alphabet[Int(v >> 18 & 0x3F)]
                out[o + 1] = base64Alphabet[Int(v >> 12 & 0x3F)]
                out[o + 2] = base64Alphabet[Int(v >> 6 & 0x3F)]
                out[o + 3] = base64Alphabet[Int(v & 0x3F)]
                i += 3
                o += 4
            }
            let rest = n - i
            if rest > 0 {
                var v = UInt32(bytes[i]) << 16
                if rest == 2 { v |= UInt32(bytes[i + 1]) << 8 }
                out[o] = base64Alphabet[Int(v >> 18 & 0x3F)]
                out[o + 1] = base64Alphabet[Int(v >> 12 & 0x3F)]
                out[o + 2] = rest == 2 ? base64Alphabet[Int(v >> 6 & 0x3F)] : UInt8(ascii: "=")
                out[o + 3] = UInt8(ascii: "=")
                o += 4
            }
            return o
        }
    }

    /// Bytes of standard base64 with or without padding, or `nil` if it is not valid base64.
    /// Padding, when present, must complete the last group of four; no whitespace is allowed.
    static func decodeBase64(_ string: Substring) -> [UInt8]? {
        var utf8 = string.utf8[...]
        var padding = 0
        while utf8.last == UInt8(ascii: "=") {
            utf8 = utf8.dropLast()
            padding += 1
        }
        let count = utf8.count
        guard count % 4 != 1, padding <= 2 else { return nil }
        if padding > 0, (count + padding) % 4 != 0 { return nil }
        var result = [UInt8]()
        result.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for char in utf8 {
            let value = base64Values[Int(char)]
            guard value != invalid else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                result.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return result
    }

    // MARK: Comparison and parsing

    /// Whether `a` and `b` hold the same bytes, in time independent of where they differ.
    static func constantTimeEquals(_ a: UnsafeRawBufferPointer, _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<b.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }

    /// Whether `string` equals `lowercased` (already lowercase ASCII), ignoring ASCII case.
    static func equalsIgnoringCase(_ string: String, lowercased: String) -> Bool {
        let a = string.utf8
        let b = lowercased.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            let lower = (x >= UInt8(ascii: "A") && x <= UInt8(ascii: "Z")) ? x | 0x20 : x
            if lower != y { return false }
        }
        return true
    }

    /// `string` without leading and trailing spaces and tabs.
    static func trimmed(_ string: Substring) -> Substring {
        var s = string
        while let c = s.first, c == " " || c == "\t" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" { s = s.dropLast() }
        return s
    }

    /// A non-negative decimal integer of ASCII digits only (no sign, no spaces), or `nil`.
    static func parseUnixSeconds(_ string: Substring) -> Int64? {
        guard !string.isEmpty else { return nil }
        var value: Int64 = 0
        for char in string.utf8 {
            guard char >= UInt8(ascii: "0"), char <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(char - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
