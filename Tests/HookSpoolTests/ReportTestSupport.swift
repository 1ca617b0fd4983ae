import Foundation
import HookSpoolReceiver
import Synchronization
import Testing
@testable import HookSpool

/// The outside programs the report tests drive: Python's `jsonschema` and headless Chromium.
///
/// Without them a test is skipped on a developer's machine; under `CI=true` it runs and fails,
/// so CI cannot pass by not checking.
enum ReportTools {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The package's root folder (where `schemas/` lives).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    struct Output: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The first executable called `name` on `PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs a program to completion, killing it after `timeout`. Blocking waits and pipe reads happen
    /// on threads of their own (BlockingThread), never on the cooperative pool the in-process receivers need.
    static func run(_ executable: String, _ arguments: [String], timeout: Duration = .seconds(90)) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            BlockingThread.detach {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                let out = Pipe()
                let err = Pipe()
                process.standardOutput = out
                process.standardError = err
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: error)
                    return
                }
                let seconds = Double(timeout.components.seconds)
                DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                }
                let errData = Mutex(Data())
                let group = DispatchGroup()
                group.enter()
                BlockingThread.detach {
                    defer { group.leave() }
                    let data = err.fileHandleForReading.readDataToEndOfFile()
                    errData.withLock { $0 = data }
                }
                let outData = out.fileHandleForReading.readDataToEndOfFile()
                group.wait()
                process.waitUntilExit()
                continuation.resume(returning: Output(
                    status: process.terminationStatus,
                    stdout: String(decoding: outData, as: UTF8.self),
                    stderr: String(decoding: errData.withLock { $0 }, as: UTF8.self)
                ))
            }
        }
    }

    // MARK: - JSON Schema

    static var python: String? { which("python3") }

    /// Whether `python3 -c 'import jsonschema'` works.
    static func jsonSchemaAvailable() async -> Bool {
        guard let python else { return false }
        return (try? await run(python, ["-c", "import jsonschema"]))?.status == 0
    }

    /// Validates JSON files against a schema with Python's `jsonschema` (Draft 2020-12, formats checked);
    /// `failureLines` are NDJSON files whose every line must be a `$defs/failure` row.
    ///
    /// - Returns: the validator's output; status 0 when everything is valid, 1 with one line per error.
    static func validate(schema: String, documents: [String], failureLines: [String] = []) async throws -> Output {
        guard let python, await jsonSchemaAvailable() else {
            throw TestFailure("python3 with the jsonschema package is required (CI=true): python3 -m pip install jsonschema")
        }
        let script = """
            import json, sys
            from jsonschema import Draft202012Validator as V
            schema = json.load(open(sys.argv[1]))
            V.check_schema(schema)
            whole = V(schema, format_checker=V.FORMAT_CHECKER)
            row = V({"$schema": schema["$schema"], "$defs": schema.get("$defs", {}), "$ref": "#/$defs/failure"}, format_checker=V.FORMAT_CHECKER)
            errors = 0
            checked = 0
            def report(where, error):
                global errors
                errors += 1
                path = "/".join(str(p) for p in error.absolute_path) or "(root)"
                print(f"{where}: {path}: {error.message}")
            for arg in sys.argv[2:]:
                if arg.startswith("rows:"):
                    name = arg[5:]
                    for number, line in enumerate(open(name), 1):
                        checked += 1
                        for error in row.iter_errors(json.loads(line)):
                            report(f"{name}:{number}", error)
                else:
                    checked += 1
                    for error in whole.iter_errors(json.load(open(arg))):
                        report(arg, error)
            print(f"checked {checked} documents, {errors} errors")
            sys.exit(1 if errors or not checked else 0)
            """
        return try await run(python, ["-c", script, schema] + documents + failureLines.map { "rows:\($0)" })
    }

    // MARK: - Chromium

    static var chromium: String? { which("chromium") ?? which("chromium-browser") ?? which("google-chrome") }

    /// The DOM Chromium builds from `file`, loaded headless from disk.
    ///
    /// - Parameter proxyPort: send every request the browser makes (loopback included) through
    ///   this port on 127.0.0.1, so a test can see whether any was made.
    static func dumpDOM(_ file: String, proxyPort: Int? = nil) async throws -> String {
        guard let chromium else {
            throw TestFailure("chromium is required (CI=true): apt-get install chromium")
        }
        var template = Array("\(NSTemporaryDirectory())/hookspool-chromium-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        let profile = String(cString: made)
        defer { try? FileManager.default.removeItem(atPath: profile) }
        var arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--user-data-dir=\(profile)", "--timeout=3000",
        ]
        if let proxyPort {
            arguments += ["--proxy-server=http://127.0.0.1:\(proxyPort)", "--proxy-bypass-list=<-loopback>"]
        }
        arguments += ["--dump-dom", URL(fileURLWithPath: file).absoluteString]
        let output = try await run(chromium, arguments)
        guard output.status == 0, output.stdout.contains("</html>") else {
            throw TestFailure("chromium exited \(output.status) without a DOM: \(output.stderr.suffix(2000))")
        }
        return output.stdout
    }

    // MARK: - Static checks

    /// Every `src`, `href`, `xlink:href`, `action`, `srcset`, `poster` value, and every CSS `url(…)` or `@import`.
    static func references(in html: String) throws -> [String] {
        var found: [String] = []
        let attribute = try Regex(#"(?i)[\s"'](src|href|xlink:href|action|formaction|srcset|poster|background|data)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))"#)
        for match in html.matches(of: attribute) {
            let value = match.output[3].substring ?? match.output[4].substring ?? match.output[5].substring ?? ""
            found.append(String(value))
        }
        for pattern in [#"(?i)url\s*\("#, #"(?i)@import"#] {
            for match in html.matches(of: try Regex(pattern)) { found.append(String(html[match.range])) }
        }
        return found
    }

    /// The references that point off the report folder: anything but an in-page anchor, a run's own
    /// files, `latest.*` and `index.html`.
    static func offFileReferences(in html: String) throws -> [String] {
        let allowed = try Regex(#"^(#[A-Za-z0-9_-]+|run-[A-Za-z0-9._-]+\.(html|json)|latest\.(html|json)|index\.html)$"#)
        return try references(in: html).filter { $0.wholeMatch(of: allowed) == nil }
    }
}

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

/// Real runs that produce the reports the report tests look at.
enum ReportScenario {
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    /// Every delivery succeeds: two endpoints, one unrouted event.
    static func clean(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("clean-1.ndjson", (1...6).map { #"{"id":"evt_clean_\#($0)","type":"\#($0 % 2 == 0 ? "order.created" : "user.signup")"}"# } + [#"{"type":"nobody.listens"}"#])
        try ws.drop("clean-2.jsonl", [#"{"id":"evt_clean_7","type":"order.paid","data":{"n":7}}"#])
        return try await LoopbackReceiver.run(handler: { _ in .ok }) { receiver in
            try await ws.run(testConfig(endpoints: [
                testEndpoint(name: "orders", port: receiver.port, path: "/orders", events: #"["order.*"]"#),
                testEndpoint(name: "users", port: receiver.port, path: "/users", events: #"["user.*"]"#),
            ].joined(separator: "\n")))
        }
    }

    /// Events a failing run sends, by endpoint: `ok` takes all, `gone` answers 410 with a body,
    /// `busy` answers 503 until its attempts run out, `closed` refuses connections.
    static let failingEvents = [
        #"{"id":"evt_f1","type":"order.created"}"#,
        #"{"id":"evt_f2","type":"order.paid"}"#,
        "this line is not JSON",
        #"{"id":"evt_f3","type":"invoice.sent"}"#,
        #"{"id":"no-type-here"}"#,
    ]

    /// Deliveries that fail for good in several ways (status with body, retries exhausted, no answer), and invalid lines.
    static func failing(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("mixed.ndjson", failingEvents)
        try ws.drop("fine.ndjson", [#"{"id":"evt_fine","type":"ping"}"#])
        let refusing = try SilentListener.refusingPort()
        defer { withExtendedLifetime(refusing) {} }
        let closed = refusing.port
        return try await LoopbackReceiver.run(handler: { request in
            switch request.path {
            case "/gone": ReceiverReply(status: 410, body: #"{"error":"endpoint deleted"}"#)
            case "/busy": ReceiverReply(status: 503, body: "try later")
            default: .ok
            }
        }) { receiver in
            try await ws.run(testConfig(
                endpoints: [
                    testEndpoint(name: "ok", port: receiver.port, path: "/ok", events: #"["*"]"#),
                    testEndpoint(name: "gone", port: receiver.port, path: "/gone", events: #"["order.*"]"#),
                    testEndpoint(name: "busy", port: receiver.port, path: "/busy", events: #"["invoice.*"]"#),
                    testEndpoint(name: "closed", port: closed, path: "/x", events: #"["order.paid"]"#),
                ].joined(separator: "\n"),
                maxAttempts: 2,
                retryFor: "0s"
            ))
        }
    }

    /// A receiver that answers 503 while `retry_for` leaves time: the deliveries are deferred to a later run.
    static func deferred(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("later.ndjson", [#"{"id":"evt_later","type":"order.created"}"#, #"{"id":"evt_now","type":"user.signup"}"#])
        return try await LoopbackReceiver.run(handler: { request in
            request.path == "/busy" ? ReceiverReply(status: 503, body: "busy") : .ok
        }) { receiver in
            try await ws.run(testConfig(
                endpoints: [
                    testEndpoint(name: "busy", port: receiver.port, path: "/busy", events: #"["order.*"]"#),
                    testEndpoint(name: "fine", port: receiver.port, path: "/fine", events: #"["user.*"]"#),
                ].joined(separator: "\n"),
                maxAttempts: 2,
                retryFor: "1h"
            ))
        }
    }

    /// A dry run over a spool with one valid and one invalid line.
    static func dryRun(_ ws: borrowing TestWorkspace) async throws -> BatchRun.Outcome {
        try ws.drop("dry.ndjson", [#"{"id":"evt_dry","type":"order.created"}"#, "{broken"])
        return try await ws.run(testConfig(endpoints: testEndpoint(name: "orders", port: 9, events: #"["order.*"]"#)), dryRun: true)
    }
}
