import Foundation
import Testing

/// The documentation holds together: the README stays a page a newcomer finishes, and every
/// relative link in README.md, CHANGELOG.md and docs/*.md leads to a file or folder that exists
/// and, with a `#anchor`, to a heading of the file it names (GitHub's rule for anchors).
@Suite("Docs")
struct DocsTests {
    static let root = ReportTools.packageRoot

    /// README.md, CHANGELOG.md and every docs/*.md, relative to the package's root.
    static func documents() throws -> [String] {
        let docs = try FileManager.default.contentsOfDirectory(atPath: root + "/docs")
            .filter { $0.hasSuffix(".md") }
            .sorted()
            .map { "docs/" + $0 }
        return ["README.md", "CHANGELOG.md"] + docs
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The lines outside fenced code blocks.
    static func proseLines(_ text: String) -> [String] {
        var inFence = false
        var lines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let indented = line.drop { $0 == " " }
            if indented.hasPrefix("```") || indented.hasPrefix("~~~") {
                inFence.toggle()
                continue
            }
            if !inFence { lines.append(String(line)) }
        }
        return lines
    }

    /// GitHub's anchor for a heading: lowercase, characters other than letters, digits, spaces,
    /// hyphens and underscores dropped, spaces turned into hyphens.
    static func anchor(_ heading: String) -> String {
        var slug = ""
        for character in heading.trimmingCharacters(in: .whitespaces).lowercased() {
            if character == " " {
                slug.append("-")
            } else if character.isLetter || character.isNumber || character == "-" || character == "_" {
                slug.append(character)
            }
        }
        return slug
    }

    /// The anchors the headings of a Markdown text make; a repeated one gets `-1`, `-2`, … as on GitHub.
    static func anchors(_ text: String) -> Set<String> {
        var seen: [String: Int] = [:]
        var result = Set<String>()
        for line in proseLines(text) {
            let hashes = line.prefix { $0 == "#" }.count
            guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { continue }
            let slug = anchor(String(line.dropFirst(hashes)))
            let earlier = seen[slug, default: 0]
            seen[slug] = earlier + 1
            result.insert(earlier == 0 ? slug : "\(slug)-\(earlier)")
        }
        return result
    }

    /// The targets of the inline links `[text](target)` of a Markdown text, outside code blocks
    /// and code spans (a code span may run over a line's end; a blank line ends it).
    static func linkTargets(_ text: String) -> [String] {
        var targets: [String] = []
        var inCode = false
        for line in proseLines(text) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty {
                inCode = false
                continue
            }
            var prose = ""
            for character in line {
                if character == "`" {
                    inCode.toggle()
                } else if !inCode {
                    prose.append(character)
                }
            }
            var rest = Substring(prose)
            while let open = rest.range(of: "](") {
                let after = rest[open.upperBound...]
                guard let close = after.firstIndex(of: ")") else { break }
                let inside = after[..<close].trimmingCharacters(in: .whitespaces)
                if let target = inside.split(separator: " ").first { targets.append(String(target)) }
                rest = after[close...]
            }
        }
        return targets
    }

    @Test("README.md is under 10 KB")
    func readmeSize() throws {
        let size = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/README.md")).count
        #expect(size < 10_240, "README.md is \(size) bytes; move detail to docs/ and link it")
    }

    @Test("every relative link in README.md, CHANGELOG.md and docs/ leads to a file or folder, and each #anchor to a heading")
    func relativeLinks() throws {
        var checked = 0
        for document in try Self.documents() {
            let path = Self.root + "/" + document
            let text = try Self.read(path)
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            for target in Self.linkTargets(text) {
                let lowered = target.lowercased()
                if lowered.hasPrefix("http://") || lowered.hasPrefix("https://") || lowered.hasPrefix("mailto:") { continue }
                checked += 1
                let parts = target.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
                let file = String(parts.first ?? "")
                let fragment = parts.count > 1 ? String(parts[1]) : nil
                var headings = Set<String>()
                var linked = document
                if file.isEmpty {
                    headings = Self.anchors(text)
                } else {
                    let name = file.removingPercentEncoding ?? file
                    let resolved = folder.appendingPathComponent(name).standardizedFileURL.path
                    var isFolder: ObjCBool = false
                    let exists = FileManager.default.fileExists(atPath: resolved, isDirectory: &isFolder)
                    #expect(exists, "\(document): the link (\(target)) leads nowhere: \(resolved) does not exist")
                    guard exists, fragment != nil, name.hasSuffix(".md"), !isFolder.boolValue else { continue }
                    headings = try Self.anchors(Self.read(resolved))
                    linked = name
                }
                if let fragment {
                    #expect(
                        headings.contains(fragment),
                        "\(document): the link (\(target)): no heading of \(linked) makes #\(fragment); its anchors: \(headings.sorted())"
                    )
                }
            }
        }
        #expect(checked > 20, "only \(checked) relative links found: is the link scanner broken?")
    }
}
