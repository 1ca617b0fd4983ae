import Foundation

/// Parses Prometheus text exposition format with a real parser: `prometheus_client`'s, run by `python3`
/// as a child process (`ChildProcess.run`).
///
/// Without the package a test is skipped on a developer's machine, with the install command in the
/// message; under `CI=true` it runs and fails (`.ci/run` installs it).
enum PrometheusParser {
    static let installHint = "python3 -m pip install prometheus_client"

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"]?.lowercased() == "true" }

    /// One sample as the parser read it.
    struct Sample: Decodable, Sendable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    /// One metric family as the parser read it: `type` is `unknown` when no `# TYPE` line named it.
    struct Family: Decodable, Sendable {
        var name: String
        var type: String
        var help: String
        var samples: [Sample]
    }

    /// The families parsed, with lookups by name and labels.
    struct Parsed: Sendable {
        var families: [Family]

        func family(_ name: String) -> Family? { families.first { $0.name == name } }

        /// The value of the sample `name` whose labels include `labels`; nil when there is none.
        func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
            let matches = families.flatMap(\.samples).filter { sample in
                sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
            }
            return matches.count == 1 ? matches[0].value : nil
        }

        /// Every sample called `name`.
        func samples(_ name: String) -> [Sample] { families.flatMap(\.samples).filter { $0.name == name } }
    }

    /// Nil when `python3 -c 'import prometheus_client'` works, else why not.
    static let problem = Task<String?, Never> {
        do {
            let output = try await run(["-c", "import prometheus_client"])
            return output.status == 0 ? nil : "python3 exited \(output.status): \(output.stderr.split(separator: "\n").last ?? "")"
        } catch {
            return "cannot start python3: \(error)"
        }
    }

    /// Run when the package is there, and always under CI, where its absence must fail.
    static var shouldRun: Bool {
        get async { await problem.value == nil || isCI }
    }

    /// Parses `text`; throws when the parser rejects it or the package is missing.
    static func parse(_ text: String) async throws -> Parsed {
        if let problem = await problem.value {
            throw TestFailure("The metrics tests need python3 with prometheus_client (\(problem)). Install it with: \(installHint)\(isCI ? " (CI=true: this is required, not skipped)" : "")")
        }
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            text = sys.stdin.read()
            families = []
            for family in text_string_to_metric_families(text):
                families.append({
                    "name": family.name, "type": family.type, "help": family.documentation,
                    "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in family.samples],
                })
            print(json.dumps(families))
            """
        let output = try await run(["-c", script], input: Data(text.utf8))
        guard output.status == 0 else {
            throw TestFailure("prometheus_client rejected the text (exit \(output.status)): \(output.stderr.suffix(2000))\n--- text:\n\(text)")
        }
        let families = try JSONDecoder().decode([Family].self, from: Data(output.stdout.utf8))
        return Parsed(families: families)
    }

    /// Runs `python3 arguments…` with `input` on its standard input; killed after a minute.
    private static func run(_ arguments: [String], input: Data? = nil) async throws -> ChildProcess.Exit {
        try await ChildProcess.run(
            "/usr/bin/env",
            ["python3"] + arguments,
            environment: ["PYTHONDONTWRITEBYTECODE": "1", "PYTHONUTF8": "1"],
            stdin: input,
            timeout: .seconds(60)
        )
    }
}
