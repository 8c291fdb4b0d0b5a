import JacoKernel

/// Refuses mapping keys that are not scalars before the YAML parser sees them: explicit keys
/// (`? key`), collections used as keys (`[a]: b`, `{a: b}: c`) and aliases used as keys
/// (`*a : b`). Compose files use none of them, and Yams checks a mapping for duplicate keys by
/// sorting them with a comparison whose cost doubles with each level of a key's nesting: a
/// fuzzed manifest of 733 bytes (nine lines of `? - ? -`) kept one validation busy for hours.
///
/// A byte scanner, not a parser: it skips comments, quoted scalars and block scalars (`|`,
/// `>`), and may refuse a plain multi-line scalar whose continuation line starts with `? `.
enum ManifestKeyCheck {
    static func check(_ m: [UInt8]) throws(JacoError) {
        var i = 0
        var line = 1
        var indent = 0
        var atIndentation = true  // still in the line's leading spaces
        var indicatorPosition = true  // where a block or flow indicator may stand
        var tokenStart = true  // where a scalar, alias or quote may start
        var blockScalarIndent: Int? = nil  // inside a block scalar begun on a line this indented

        func separated(_ j: Int) -> Bool { j >= m.count || [space, tab, newline, carriageReturn].contains(m[j]) }
        func refuse(_ what: String) -> JacoError {
            JacoError(.validationFailed, "the manifest uses \(what) as a mapping key (line \(line)); compose files use plain keys")
        }

        while i < m.count {
            let c = m[i]
            if c == newline {
                line += 1
                indent = 0
                atIndentation = true
                indicatorPosition = true
                tokenStart = true
                i += 1
                continue
            }
            if atIndentation {
                if c == space {
                    indent += 1
                    i += 1
                    continue
                }
                atIndentation = false
                if let parent = blockScalarIndent {
                    // Block scalar content: lines indented deeper than the line that began it.
                    if indent > parent || c == carriageReturn {
                        i = skipLine(m, from: i)
                        continue
                    }
                    blockScalarIndent = nil
                }
            }
            switch c {
            case space, tab, carriageReturn:
                tokenStart = true
                i += 1
            case hash where tokenStart:
                i = skipLine(m, from: i)
            case doubleQuote where tokenStart, singleQuote where tokenStart:
                i = skipQuoted(m, from: i, line: &line)
                indicatorPosition = false
                tokenStart = false
            case questionMark where indicatorPosition && separated(i + 1):
                throw refuse("an explicit key ('? ')")
            case dash where indicatorPosition && separated(i + 1), colon where separated(i + 1):
                indicatorPosition = true
                i += 1
            case openBracket, openBrace, comma:
                indicatorPosition = true
                tokenStart = true
                i += 1
            case closeBracket, closeBrace:
                var j = i + 1
                while j < m.count, m[j] == space || m[j] == tab { j += 1 }
                if j < m.count, m[j] == colon, separated(j + 1) || (j + 1 < m.count && [comma, closeBracket, closeBrace].contains(m[j + 1])) {
                    throw refuse("a [ ] or { } collection")
                }
                indicatorPosition = false
                tokenStart = false
                i += 1
            case star where tokenStart:
                var j = i + 1
                while j < m.count, isAnchorCharacter(m[j]) { j += 1 }
                while j < m.count, m[j] == space || m[j] == tab { j += 1 }
                if j < m.count, m[j] == colon, separated(j + 1) { throw refuse("an alias ('*name')") }
                indicatorPosition = false
                tokenStart = false
                i = j
            case pipe where tokenStart, greaterThan where tokenStart:
                // A block scalar header: `|` or `>`, chomping and indentation indicators, then
                // the end of the line (or a comment).
                var j = i + 1
                while j < m.count, m[j] == plus || m[j] == dash || (m[j] >= 0x30 && m[j] <= 0x39) { j += 1 }
                while j < m.count, m[j] == space || m[j] == tab { j += 1 }
                if j >= m.count || m[j] == newline || m[j] == hash || m[j] == carriageReturn { blockScalarIndent = indent }
                indicatorPosition = false
                tokenStart = false
                i = j
            default:
                indicatorPosition = false
                tokenStart = false
                i += 1
            }
        }
    }

    /// The index of the newline that ends the line `i` is on (or the end).
    private static func skipLine(_ m: [UInt8], from i: Int) -> Int {
        var j = i
        while j < m.count, m[j] != newline { j += 1 }
        return j
    }

    /// The index after the quoted scalar that starts at `i` (or the end, if it never closes).
    private static func skipQuoted(_ m: [UInt8], from i: Int, line: inout Int) -> Int {
        let quote = m[i]
        var j = i + 1
        while j < m.count {
            if m[j] == newline { line += 1 }
            if quote == doubleQuote, m[j] == backslash {
                j += 2
                continue
            }
            if m[j] == quote {
                // '' inside single quotes is an escaped quote.
                if quote == singleQuote, j + 1 < m.count, m[j + 1] == singleQuote {
                    j += 2
                    continue
                }
                return j + 1
            }
            j += 1
        }
        return j
    }

    /// libyaml's anchor and alias name characters.
    private static func isAnchorCharacter(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == dash || c == underscore
    }

    private static let (space, tab, newline, carriageReturn): (UInt8, UInt8, UInt8, UInt8) = (0x20, 0x09, 0x0A, 0x0D)
    private static let (hash, doubleQuote, singleQuote, backslash): (UInt8, UInt8, UInt8, UInt8) = (0x23, 0x22, 0x27, 0x5C)
    private static let (questionMark, dash, colon, comma, star): (UInt8, UInt8, UInt8, UInt8, UInt8) = (0x3F, 0x2D, 0x3A, 0x2C, 0x2A)
    private static let (openBracket, closeBracket, openBrace, closeBrace): (UInt8, UInt8, UInt8, UInt8) = (0x5B, 0x5D, 0x7B, 0x7D)
    private static let (pipe, greaterThan, plus, underscore): (UInt8, UInt8, UInt8, UInt8) = (0x7C, 0x3E, 0x2B, 0x5F)
}
