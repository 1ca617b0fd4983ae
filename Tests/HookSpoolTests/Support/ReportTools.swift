import Foundation

/// The outside programs the report tests drive: Python's `jsonschema` and headless Chromium.
///
/// Without them a test is skipped on a developer's machine; under `CI=true` it runs and fails,
/// so CI cannot pass by not checking.
enum ReportTools {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// The package's root folder (where `schemas/` lives), four levels above this file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// The first executable called `name` on `PATH`.
    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// How long a validator or browser may take before it is killed and the test fails.
    static let timeout: Duration = .seconds(90)

    // MARK: - JSON Schema

    static var python: String? { which("python3") }

    /// Whether `python3 -c 'import jsonschema'` works.
    static func jsonSchemaAvailable() async -> Bool {
        guard let python else { return false }
        return (try? await ChildProcess.run(python, ["-c", "import jsonschema"], timeout: timeout))?.status == 0
    }

    /// Validates JSON files against a schema with Python's `jsonschema` (Draft 2020-12, formats checked);
    /// `failureLines` are NDJSON files whose every line must be a `$defs/failure` row.
    ///
    /// - Returns: the validator's output; status 0 when everything is valid, 1 with one line per error.
    static func validate(schema: String, documents: [String], failureLines: [String] = []) async throws -> ChildProcess.Exit {
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
        return try await ChildProcess.run(python, ["-c", script, schema] + documents + failureLines.map { "rows:\($0)" }, timeout: timeout)
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
        let output = try await ChildProcess.run(chromium, arguments, timeout: timeout)
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
