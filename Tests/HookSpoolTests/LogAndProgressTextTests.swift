import Foundation
import Logging
import Testing
@testable import HookSpool

/// The pure parts of logging and progress: how a record becomes a line, how counters become a progress line.
@Suite("Log lines and progress text")
struct LogAndProgressTextTests {
    static let time = Date(timeIntervalSince1970: 1_764_392_400.25)

    @Test("logfmt: time, level, msg first; plain words bare; spaces, quotes, = and control characters quoted and escaped")
    func logfmt() {
        let line = LogLineFormat.logfmt.line(
            time: Self.time, level: .warning, message: "file finished",
            metadata: ["b.key": "two words", "a": "plain", "q": "say \"hi\"\nbye", "eq": "a=b", "empty": "", "msg": "clash"]
        )
        #expect(line == #"time=2025-11-29T05:00:00.250Z level=warning msg="file finished" a=plain b.key="two words" empty="" eq="a=b" metadata.msg=clash q="say \"hi\"\nbye""#)
        #expect(!line.contains("\n"))
    }

    @Test("json: one object per line that a JSON parser reads back exactly, nested metadata kept")
    func json() throws {
        let tricky = "quote \" backslash \\ newline \n tab \t bell \u{07} é 🚀"
        let line = LogLineFormat.json.line(
            time: Self.time, level: .error, message: tricky,
            metadata: ["hookspool.file": "a.ndjson", "nested": ["k": "v", "list": ["1", "2"]], "level": "clash"]
        )
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["time"] as? String == "2025-11-29T05:00:00.250Z")
        #expect(object["level"] as? String == "error")
        #expect(object["msg"] as? String == tricky)
        #expect(object["hookspool.file"] as? String == "a.ndjson")
        #expect(object["metadata.level"] as? String == "clash")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["1", "2"])
        #expect(line.hasPrefix(#"{"time":"#))
    }

    @Test("progress: files, events, delivered with a rate, failures when there are some, ETA once reading is done")
    func progressLine() {
        var text = ProgressText()
        var progress = RunProgress()
        progress.filesPlanned = 4
        progress.filesStarted = 1
        progress.events = 100
        progress.deliveries = 100
        #expect(text.line(progress, elapsed: .seconds(1)) == "files 0/4  events 100  delivered 0 (0/s)")

        progress.delivered = 40
        progress.failed = 2
        progress.filesFinished = 1
        let middle = text.line(progress, elapsed: .seconds(2))
        #expect(middle.hasPrefix("files 1/4  events 100  delivered 40 (40/s)  failed 2"), "\(middle)")
        #expect(middle.hasSuffix("ETA 6s"), "by files: 2 s per file, 3 files left: \(middle)")

        progress.readingFinished = true
        progress.filesFinished = 3
        progress.delivered = 80
        let late = text.line(progress, elapsed: .seconds(3))
        // Over the window (1 s to 3 s) 82 deliveries finished: 41 per second, and 18 are left.
        #expect(late.hasSuffix("ETA <1s"), "\(late)")
        #expect(ProgressText.eta(progress, elapsed: .seconds(3), finishedRate: 9) == .milliseconds(2000))
        progress.delivered = 98
        #expect(ProgressText.eta(progress, elapsed: .seconds(4), finishedRate: 9) == nil, "nothing left")
    }

    @Test("durations and rates read at a glance")
    func formats() {
        #expect(ProgressText.format(.milliseconds(300)) == "<1s")
        #expect(ProgressText.format(.seconds(42)) == "42s")
        #expect(ProgressText.format(.seconds(185)) == "3m05s")
        #expect(ProgressText.format(.seconds(3720)) == "1h02m")
        #expect(ProgressText.rate(2.345) == "2.3")
        #expect(ProgressText.rate(2340.4) == "2340")
        #expect(ProgressText.rate(0) == "0")
    }
}
