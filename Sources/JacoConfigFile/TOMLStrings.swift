import JacoKernel

/// TOML strings: basic and literal, one-line and multi-line, with escapes.
extension TOMLConfigParser.Parser {
    /// A `"…"` string, escapes resolved.
    mutating func basicString() throws(TOMLConfigParser.SyntaxError) -> String {
        i += 1
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("a string is not closed with '\"'") }
            i += 1
            switch byte {
            case UInt8(ascii: "\""): return try utf8(out)
            case UInt8(ascii: "\\"): try escape(into: &out)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                i -= 1
                throw error("a one-line string is not closed with '\"' before the end of the line")
            default:
                if Self.isControl(byte) { throw error("control character \(describe(byte)) in a string; escape it") }
                out.append(byte)
            }
        }
    }

    /// A `'…'` string, taken as written.
    mutating func literalString() throws(TOMLConfigParser.SyntaxError) -> String {
        i += 1
        let start = i
        while true {
            guard let byte = peek() else { throw error("a literal string is not closed with \"'\"") }
            if byte == UInt8(ascii: "'") { break }
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw error("a one-line literal string is not closed with \"'\" before the end of the line") }
            if Self.isControl(byte) && byte != UInt8(ascii: "\t") { throw error("control character \(describe(byte)) in a string") }
            i += 1
        }
        let text = try utf8(Array(bytes[start..<i]))
        i += 1
        return text
    }

    /// A `"""…"""` string: escapes, and a backslash at a line's end trims the break.
    mutating func multilineBasicString() throws(TOMLConfigParser.SyntaxError) -> String {
        i += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("a multi-line string is not closed with '\"\"\"'") }
            if closesMultiline(UInt8(ascii: "\""), appendingTo: &out) { return try utf8(out) }
            i += 1
            if byte == UInt8(ascii: "\\") {
                // A backslash at the end of a line trims the newline and leading whitespace.
                var j = i
                while j < bytes.count, bytes[j] == UInt8(ascii: " ") || bytes[j] == UInt8(ascii: "\t") { j += 1 }
                if j < bytes.count, bytes[j] == UInt8(ascii: "\n") || bytes[j] == UInt8(ascii: "\r") {
                    i = j
                    while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") {
                        if b == UInt8(ascii: "\n") { newLine() } else { i += 1 }
                    }
                } else {
                    try escape(into: &out)
                }
            } else if byte == UInt8(ascii: "\n") {
                out.append(byte)
                line += 1
                lineStart = i
            } else {
                if Self.isControl(byte) && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") { throw error("control character \(describe(byte)) in a string; escape it") }
                out.append(byte)
            }
        }
    }

    /// A `'''…'''` string, taken as written.
    mutating func multilineLiteralString() throws(TOMLConfigParser.SyntaxError) -> String {
        i += 3
        skipOneNewline()
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else { throw error("a multi-line literal string is not closed with \"'''\"") }
            if closesMultiline(UInt8(ascii: "'"), appendingTo: &out) { return try utf8(out) }
            i += 1
            if byte == UInt8(ascii: "\n") {
                line += 1
                lineStart = i
            } else if Self.isControl(byte) && byte != UInt8(ascii: "\t") && byte != UInt8(ascii: "\r") {
                throw error("control character \(describe(byte)) in a string")
            }
            out.append(byte)
        }
    }

    /// At three `quote`s: consumes them (and up to two more, which end the content), and
    /// says the multi-line string is closed.
    mutating func closesMultiline(_ quote: UInt8, appendingTo out: inout [UInt8]) -> Bool {
        guard i + 3 <= bytes.count, bytes[i] == quote, bytes[i + 1] == quote, bytes[i + 2] == quote else { return false }
        var quotes = 3
        while quotes < 5, i + quotes < bytes.count, bytes[i + quotes] == quote { quotes += 1 }
        out += Array(repeating: quote, count: quotes - 3)
        i += quotes
        return true
    }

    /// One escape after a backslash, appended as UTF-8.
    mutating func escape(into out: inout [UInt8]) throws(TOMLConfigParser.SyntaxError) {
        guard let byte = peek() else { throw error("a string ends in the middle of an escape") }
        i += 1
        switch byte {
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "e"): out.append(27)
        case UInt8(ascii: "\""): out.append(byte)
        case UInt8(ascii: "\\"): out.append(byte)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let count = byte == UInt8(ascii: "u") ? 4 : 8
            guard i + count <= bytes.count, let code = UInt32(String(decoding: bytes[i..<(i + count)], as: UTF8.self), radix: 16),
                let scalar = Unicode.Scalar(code)
            else { throw error("'\\\(Character(Unicode.Scalar(byte)))' must be followed by \(count) hex digits of a Unicode scalar value") }
            i += count
            out += Array(String(Character(scalar)).utf8)
        default:
            throw error("unknown escape '\\\(describeRaw(byte))' in a string")
        }
    }

    /// `bytes` as text; a string that is not UTF-8 is an error.
    func utf8(_ bytes: [UInt8]) throws(TOMLConfigParser.SyntaxError) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
        return text
    }
}
