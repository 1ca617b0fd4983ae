import Foundation
import Testing
import Yams
@testable import HookSpool

/// `schemas/config.schema.json` against the loader: the same keys at every level, and every
/// config in the repository valid against it (checked by Python's `jsonschema`, Draft 2020-12).
@Suite("Config JSON schema")
struct ConfigSchemaTests {
    static var schemaPath: String { ReportTools.packageRoot + "/schemas/config.schema.json" }

    static func schema() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: schemaPath))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// The `properties` keys of `object`.
    static func properties(_ object: Any?) -> Set<String> {
        Set(((object as? [String: Any])?["properties"] as? [String: Any])?.keys.map { $0 } ?? [])
    }

    @Test("the schema names exactly the keys the loader reads, at every level")
    func sameKeys() throws {
        let schema = try Self.schema()
        let top = (schema["properties"] as? [String: Any]) ?? [:]
        let defs = (schema["$defs"] as? [String: Any]) ?? [:]
        let delivery = top["delivery"] as? [String: Any]
        let endpoint = defs["endpoint"] as? [String: Any]
        let levels: [(String, Set<String>)] = [
            ("", Self.properties(schema)),
            ("spool", Self.properties(top["spool"])),
            ("report", Self.properties(top["report"])),
            ("delivery", Self.properties(delivery)),
            ("delivery.backoff", Self.properties((delivery?["properties"] as? [String: Any])?["backoff"])),
            ("metrics", Self.properties(top["metrics"])),
            ("limits", Self.properties(top["limits"])),
            ("endpoints[]", Self.properties(endpoint)),
            ("endpoints[].tls", Self.properties((endpoint?["properties"] as? [String: Any])?["tls"])),
            ("endpoints[].secret[]", Self.properties(defs["secret_window"])),
        ]
        #expect(Set(levels.map(\.0)) == Set(ConfigReader.keys.keys), "every mapping the loader reads is checked here")
        for (path, inSchema) in levels {
            let known = ConfigReader.keys(path)
            #expect(known.subtracting(inSchema).isEmpty, "keys the loader reads at '\(path)' that the schema lacks: \(known.subtracting(inSchema).sorted())")
            #expect(inSchema.subtracting(known).isEmpty, "keys in the schema at '\(path)' that the loader refuses: \(inSchema.subtracting(known).sorted())")
        }
    }

    /// YAML as the JSON a validator reads (timestamps back to their text).
    static func json(_ yaml: String) throws -> Data {
        func plain(_ value: Any?) -> Any {
            switch value {
            case let map as [AnyHashable: Any]: return Dictionary(uniqueKeysWithValues: map.map { ("\($0.key)", plain($0.value)) })
            case let list as [Any]: return list.map(plain)
            case let date as Date: return ISO8601DateFormatter().string(from: date)
            case let value?: return value
            case nil: return NSNull()
            }
        }
        return try JSONSerialization.data(withJSONObject: plain(try Yams.load(yaml: yaml)))
    }

    /// Every config in the repository: the reference, the systemd and Kubernetes examples, the demo's.
    static func configs() throws -> [(name: String, yaml: String)] {
        let root = ReportTools.packageRoot
        var configs = [
            ("config.yaml", try String(contentsOfFile: root + "/config.yaml", encoding: .utf8)),
            ("examples/systemd/config.yaml", try String(contentsOfFile: root + "/examples/systemd/config.yaml", encoding: .utf8)),
        ]
        let map = try #require(try Yams.load(yaml: try String(contentsOfFile: root + "/examples/kubernetes/configmap.yaml", encoding: .utf8)) as? [String: Any])
        let data = try #require(map["data"] as? [String: Any])
        configs.append(("examples/kubernetes/configmap.yaml data.config.yaml", try #require(data["config.yaml"] as? String)))
        let receivers = DemoWorkspace.Receivers(
            healthyPort: 1, flakyPort: 2, gonePort: 3, ordersSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", billingSecret: "b", crmSecret: "c", auditSecret: "a"
        )
        configs.append(("the demo's", DemoWorkspace(directory: "/tmp/demo").config(receivers)))
        return configs
    }

    @Test("every config in the repository validates against the schema, and a wrong one does not",
          .enabled("needs python3 with jsonschema; CI=true requires it") { ReportTools.isCI ? true : await ReportTools.jsonSchemaAvailable() })
    func configsValidate() async throws {
        let ws = try TestWorkspace()
        var documents: [String] = []
        for (index, config) in try Self.configs().enumerated() {
            let path = "\(ws.root)/config-\(index).json"
            try Self.json(config.yaml).write(to: URL(fileURLWithPath: path))
            documents.append(path)
        }
        #expect(documents.count == 4)
        let valid = try await ReportTools.validate(schema: Self.schemaPath, documents: documents)
        #expect(valid.status == 0, "\(valid.stdout)\(valid.stderr)")

        // Negative control: a key the loader would refuse, and a bad duration.
        let wrong = "\(ws.root)/wrong.json"
        try Self.json("delivery: {timeout: soon}\nendpoints:\n  - {name: a, url: https://x.example, events: ['*'], secret: s, retries: 3}\n")
            .write(to: URL(fileURLWithPath: wrong))
        let invalid = try await ReportTools.validate(schema: Self.schemaPath, documents: [wrong])
        #expect(invalid.status != 0)
        #expect(invalid.stdout.contains("retries") && invalid.stdout.contains("soon"), "\(invalid.stdout)")
    }

    @Test("config.yaml names the schema for editors (yaml-language-server)")
    func editorLine() throws {
        let text = try String(contentsOfFile: ReportTools.packageRoot + "/config.yaml", encoding: .utf8)
        #expect(text.hasPrefix("# yaml-language-server: $schema=./schemas/config.schema.json\n"))
    }
}
