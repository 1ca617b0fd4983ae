import Yams

// Reads `proxy:` (in `delivery` and per endpoint) and `delivery.no_proxy`.
extension ConfigReader {
    /// Reads a `proxy` value: `none` (given as `.some(nil)`), a proxy URL, or `env:NAME` / `file:PATH`
    /// holding one. A proxy given by reference is a secret (it may carry credentials): messages
    /// about it name the reference, never its text.
    mutating func proxy(_ node: Node, key: String) -> EgressProxy?? {
        guard let text = string(node, key: key, nonEmpty: true) else { return nil }
        if text == "none" { return .some(nil) }
        let isReference = SecretReference.isReference(text)
        guard let resolved = resolveReference(node, text, noun: "proxy URL", key: key) else { return nil }
        do {
            return try EgressProxy(parsing: resolved)
        } catch {
            fail(node, key, (isReference ? "the proxy URL from \(text): " : "") + error.description)
            return nil
        }
    }

    /// Reads `delivery.no_proxy`: a list of hosts, `.domain` suffixes and CIDRs.
    mutating func noProxy(_ node: Node, key: String) -> [NoProxyRule]? {
        guard case .sequence(let items) = node else {
            fail(node, key, "expected a list of hosts, .domain suffixes and CIDRs, e.g. [hooks.internal, .corp.example, 10.0.0.0/8]")
            return nil
        }
        var rules: [NoProxyRule] = []
        for (index, item) in items.enumerated() {
            guard let text = string(item, key: "\(key)[\(index)]", nonEmpty: true) else { continue }
            guard let rule = NoProxyRule(text) else {
                fail(item, "\(key)[\(index)]", "'\(text)' is not a host, a .domain suffix or a CIDR (e.g. hooks.internal, .corp.example, 10.0.0.0/8)")
                continue
            }
            rules.append(rule)
        }
        return rules.count == items.count ? rules : nil
    }
}
