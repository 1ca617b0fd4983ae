import Foundation

/// The frame every report page shares: one self-contained document with inline CSS, a policy that
/// forbids fetching anything or running any script, light and dark colours, phone and print layouts;
/// and the escaping and number formatting the pages use.
enum HTMLPage {
    /// A whole document around `body`; `title` is plain text and is escaped here.
    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="color-scheme" content="light dark">
        <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
        <meta name="referrer" content="no-referrer">
        <meta name="generator" content="hookspool \(HookSpoolVersion.current)">
        <title>\(escape(title))</title>
        <style>\(css)</style>
        </head><body>
        \(body)<footer>Written by hookspool \(HookSpoolVersion.current). This page is self-contained: it fetches nothing and runs no script.</footer>
        </body></html>

        """
    }

    /// Escapes text for element content and quoted attribute values.
    ///
    /// Control characters other than tab and line breaks become U+FFFD, so a response body cannot
    /// smuggle terminal or parser tricks into the page.
    static func escape(_ text: String) -> String {
        // Most text (names, URLs, numbers) has nothing to escape and is returned as it is. 0xC2
        // leads the UTF-8 of U+0080…U+00BF, the C1 controls among them.
        let plain = !text.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 || $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 }
        if plain { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// `text` escaped, cut to `limit` characters with an ellipsis.
    static func excerpt(_ text: String, limit: Int) -> String {
        text.count > limit ? escape(String(text.prefix(limit))) + "…" : escape(text)
    }

    /// A latency for a person: `0.8 ms`, `42 ms`, `1.35 s`; a dash when there is none.
    static func milliseconds(_ value: Double?) -> String {
        guard let value else { return "—" }
        if value < 10 { return fixed(value, decimals: 1) + " ms" }
        if value < 1000 { return fixed(value, decimals: 0) + " ms" }
        return fixed(value / 1000, decimals: value < 10_000 ? 2 : 1) + " s"
    }

    /// A run's length for a person: `850 ms`, `4.2 s`, `3 min 12 s`, `1 h 5 min`.
    static func duration(ms: Int64) -> String {
        if ms < 1000 { return "\(ms) ms" }
        if ms < 60_000 { return fixed(Double(ms) / 1000, decimals: 1) + " s" }
        let seconds = ms / 1000
        if seconds < 3600 { return "\(seconds / 60) min \(seconds % 60) s" }
        return "\(seconds / 3600) h \((seconds % 3600) / 60) min"
    }

    /// A share as a percentage: `100 %`, `99.5 %`, `0 %`; a dash when `whole` is zero.
    static func percent(_ part: Int, of whole: Int) -> String {
        guard whole > 0 else { return "—" }
        if part == whole { return "100 %" }
        if part == 0 { return "0 %" }
        let value = Double(part) * 100 / Double(whole)
        return fixed(value, decimals: value >= 99.95 ? 2 : 1) + " %"
    }

    /// `value` with `decimals` (0…2) digits after the point, rounded as `printf`'s `%.*f` rounds
    /// (to the nearest, ties to even, on the exact binary value) and so written as
    /// `String(format:)` writes it, which took a fifth of the time a report with 1,000 endpoints
    /// took to write (its arguments' casts, Foundation's formatter).
    static func fixed(_ value: Double, decimals: Int) -> String {
        let scale: Double = decimals == 0 ? 1 : decimals == 1 ? 10 : 100
        let product = value.magnitude * scale
        guard (0...2).contains(decimals), value.isFinite, product < 0x1p52 else {
            return String(format: "%.*f", decimals, value)
        }
        // What the product's rounding lost, exactly (a fused multiply-add), so that the digits are
        // those of the exact value · 10^decimals; `above` is that value's distance from the half
        // above `floor`, its sign exact (below 2^52 the half is a multiple of the product's ulp).
        let residual = (-product).addingProduct(value.magnitude, scale)
        let floor = product.rounded(.down)
        let above = (product - floor - 0.5) + residual
        var units = UInt64(floor)
        if above > 0 || (above == 0 && units % 2 == 1) { units += 1 }
        var digits = String(units)
        if decimals > 0 {
            if digits.count <= decimals { digits = String(repeating: "0", count: decimals + 1 - digits.count) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -decimals))
        }
        return value.sign == .minus ? "-" + digits : digits
    }

    /// A count with thin grouping: `12 345`.
    static func number(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out += "\u{2009}" }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// The stylesheet: colours as variables, overridden for dark mode and for print.
    static let css = """
        :root{--bg:#fff;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;--link:#0969da;\
        --ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--dry:#59636e;--net:#8250df;--redir:#bc4c00;\
        --okbg:#dafbe1;--badbg:#ffebe9;--warnbg:#fff8c5;--drybg:#eff2f5}
        @media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--head:#151b23;\
        --link:#4493f8;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--dry:#9198a1;--net:#ab7df8;--redir:#db6d28;\
        --okbg:#12261e;--badbg:#2d1519;--warnbg:#2a2111;--drybg:#212830}}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:78rem;padding:1rem;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
        a{color:var(--link)}
        nav{font-size:.9rem;margin-bottom:.5rem}
        h1{font-size:1.4rem;line-height:1.3;margin:.35rem 0}
        h2{font-size:1.15rem;margin:2rem 0 .5rem;padding-bottom:.2rem;border-bottom:1px solid var(--line)}
        h3{font-size:1rem;margin:1.2rem 0 .3rem}
        .headline{border-left:.45rem solid var(--c);background:var(--cbg);padding:.75rem 1rem;border-radius:.4rem}
        .ok{--c:var(--ok);--cbg:var(--okbg)}.failed{--c:var(--bad);--cbg:var(--badbg)}
        .deferred{--c:var(--warn);--cbg:var(--warnbg)}.dry_run{--c:var(--dry);--cbg:var(--drybg)}
        .badge{display:inline-block;padding:.05rem .6rem;border-radius:1rem;background:var(--c);color:var(--bg);font-weight:700;\
        font-size:.8rem;letter-spacing:.05em;text-transform:uppercase;white-space:nowrap}
        .meta,.note,footer{color:var(--muted);font-size:.88rem}
        .jump{margin:.4rem 0 0;font-size:.9rem}
        .tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(8rem,1fr));gap:.5rem;margin:1rem 0;padding:0}
        .tiles div{border:1px solid var(--line);border-radius:.4rem;padding:.35rem .6rem}
        .tiles dt{font-size:.8rem;color:var(--muted)}
        .tiles dd{margin:0;font-size:1.35rem;font-weight:600;font-variant-numeric:tabular-nums}
        .tiles .sub{display:block;font-size:.75rem;font-weight:400;color:var(--muted)}
        .tiles .hot dd{color:var(--bad)}.tiles .lukewarm dd{color:var(--warn)}
        .problems{border:1px solid var(--bad);border-radius:.4rem;padding:.5rem 1rem .5rem 2rem;background:var(--badbg)}
        .scroll{overflow-x:auto;margin:.4rem 0}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
        th,td{padding:.35rem .55rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
        thead th{background:var(--head);font-weight:600;white-space:nowrap;font-size:.88rem}
        .n{text-align:right;white-space:nowrap}
        td.zero{color:var(--muted)}
        td.hot{color:var(--bad);font-weight:600}td.lukewarm{color:var(--warn);font-weight:600}
        .name{font-weight:600}.url,.wrap{overflow-wrap:anywhere}.url{display:block;font-size:.8rem;color:var(--muted)}
        code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
        .chart{display:block;max-width:100%;height:auto}
        .bar{width:100%;height:.8rem;margin:.6rem 0 .2rem}
        .mix{width:10rem;height:.7rem;margin-top:.35rem}
        .lat{width:9rem;height:1rem;margin-top:.2rem}
        .trend{width:100%;height:7rem;margin:.4rem 0}
        svg .lat1{fill:var(--link)}svg .lat2{fill:var(--link);opacity:.5}svg .lat3{fill:var(--link);opacity:.25}
        .legend{font-size:.78rem;color:var(--muted);margin:.15rem 0 0;line-height:1.7}
        .sw{display:inline-block;width:.65rem;height:.65rem;border-radius:2px;margin:0 .25rem 0 .5rem;vertical-align:-1px;background:var(--c)}
        .legend .sw:first-child{margin-left:0}
        svg .ok,svg .s2{fill:var(--ok)}svg .bad,svg .s4{fill:var(--bad)}svg .warn,svg .s5{fill:var(--warn)}
        svg .s3{fill:var(--redir)}svg .net{fill:var(--net)}svg .dry{fill:var(--dry)}svg .track{fill:var(--line)}
        svg .tick{fill:var(--fg)}svg text{fill:var(--muted);font:10px system-ui,sans-serif}
        .s2{--c:var(--ok)}.s3{--c:var(--redir)}.s4{--c:var(--bad)}.s5{--c:var(--warn)}.net{--c:var(--net)}.sw.dry{--c:var(--dry)}
        footer{margin:2.5rem 0 1rem;border-top:1px solid var(--line);padding-top:.5rem}
        @media (max-width:42rem){body{padding:.6rem;font-size:14px}h1{font-size:1.2rem}
        table.cards thead{display:none}table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}
        table.cards tr{border:1px solid var(--line);border-radius:.4rem;margin:.5rem 0;padding:.2rem .6rem}
        table.cards td{border:0;display:flex;gap:1rem;justify-content:space-between;text-align:right;padding:.15rem 0}
        table.cards td.opt{display:none}table.cards td>*{min-width:0}table.cards td.wrap{overflow-wrap:break-word}
        table.cards td::before{content:attr(data-label);font-weight:600;color:var(--muted);text-align:left;white-space:nowrap}
        table.cards td.chartcell{display:block;text-align:left}table.cards td.chartcell::before{display:block}}
        @media print{:root{--bg:#fff;--fg:#000;--muted:#444;--line:#bbb;--head:#eee;--link:#000}
        body{max-width:none;padding:0;font-size:10pt}nav,.jump{display:none}
        .scroll{overflow:visible}tr,.tiles div,.headline,svg{break-inside:avoid}h2,h3{break-after:avoid}
        *{print-color-adjust:exact;-webkit-print-color-adjust:exact}a{color:inherit;text-decoration:none}}
        """
}
