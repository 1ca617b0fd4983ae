#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 3339 date-times: checking and formatting, without Foundation's formatters.
public enum RFC3339 {
    /// Whether `text` is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    static func isValid(_ text: String) -> Bool {
        let b = Array(text.utf8)
        func digits(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= b.count else { return nil }
            var value = 0
            for i in at..<(at + count) {
                guard b[i] >= 0x30 && b[i] <= 0x39 else { return nil }
                value = value * 10 + Int(b[i] - 0x30)
            }
            return value
        }
        guard b.count >= 20,
            let year = digits(0, 4), b[4] == UInt8(ascii: "-"),
            let month = digits(5, 2), b[7] == UInt8(ascii: "-"),
            let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11, 2), b[13] == UInt8(ascii: ":"),
            let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
            let second = digits(17, 2)
        else { return false }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(month), day >= 1, day <= daysInMonth[month - 1],
            hour <= 23, minute <= 59, second <= 60
        else { return false }
        var i = 19
        if i < b.count && b[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < b.count && b[i] >= 0x30 && b[i] <= 0x39 { i += 1 }
            guard i > fractionStart else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"),
            let offsetHour = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"),
            let offsetMinute = digits(i + 4, 2), i + 6 == b.count
        else { return false }
        return offsetHour <= 23 && offsetMinute <= 59
    }

    /// The times RFC 3339 can write: 0000-01-01T00:00:00Z to 9999-12-31T23:59:59Z.
    static let representable: ClosedRange<Int> = -62_167_219_200...253_402_300_799

    /// Formats seconds since 1970 as `YYYY-MM-DDTHH:MM:SSZ` (UTC), or with milliseconds when `milliseconds` is given.
    ///
    /// A time outside years 0000–9999 (a producer's file can carry any modification time) is
    /// clamped to the nearest one that can be written.
    /// `unixTime` (seconds since 1970) with its milliseconds.
    static func format(unixTime: Double) -> String {
        let millis = (unixTime * 1000).rounded(.down)
        let (seconds, milliseconds) = millis.isFinite && abs(millis) < 9e15 ? (Int(millis) / 1000, Int(millis) % 1000) : (0, 0)
        return format(secondsSince1970: seconds, milliseconds: milliseconds)
    }

    public static func format(secondsSince1970 seconds: Int, milliseconds: Int? = nil) -> String {
        var time = time_t(min(max(seconds, representable.lowerBound), representable.upperBound))
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
        text += "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if let milliseconds { text += ".\(pad(Int32(clamping: min(max(milliseconds, 0), 999)), 3))" }
        return text + "Z"
    }

    /// Milliseconds since 1970 of an RFC 3339 time (`2026-11-29T05:15:00.123Z`, any number of
    /// fraction digits or none, `Z` or an offset); nil if `text` is not one.
    ///
    /// Compared as text, `05:15:00Z` would sort after `05:15:00.123Z` ('Z' > '.').
    public static func milliseconds(_ text: String) -> Int64? {
        guard isValid(text) else { return nil }
        let b = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int64 { b[at..<(at + count)].reduce(0) { $0 * 10 + Int64($1 - 0x30) } }
        // Days since 1970-01-01 in the proleptic Gregorian calendar (H. Hinnant's days_from_civil).
        let month = number(5, 2)
        let year = number(0, 4) - (month <= 2 ? 1 : 0)
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + number(8, 2) - 1
        let days = era * 146_097 + yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear - 719_468
        var millis = ((days * 24 + number(11, 2)) * 60 + number(14, 2)) * 60_000 + number(17, 2) * 1000
        var i = 19
        if b[i] == UInt8(ascii: ".") {
            i += 1
            var scale: Int64 = 100
            while b[i] >= 0x30 && b[i] <= 0x39 {
                millis += Int64(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
        }
        if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            let offset = (number(i + 1, 2) * 60 + number(i + 4, 2)) * 60_000
            millis += b[i] == UInt8(ascii: "+") ? -offset : offset
        }
        return millis
    }
}
