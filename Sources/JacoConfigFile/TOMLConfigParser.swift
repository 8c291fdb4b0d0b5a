import JacoKernel

/// Parses TOML text into format-independent config values.
///
/// Jaco's own reader of TOML 1.0, written because the C++ parser under TOMLKit (toml++)
/// stopped the process on failed assertions for malformed input the fuzzer found (`[=]`, `[`,
/// `i=[}`): here every malformed input is an error naming its line and column. It reads
/// tables, arrays of tables, dotted and quoted keys, basic and literal strings (one-line and
/// multi-line, with escapes), integers (decimal, hex, octal, binary, `_` separators), floats,
/// booleans, arrays and inline tables. Dates and times, which no config key takes, are refused
/// with an error saying so.
enum TOMLConfigParser {
    /// The top-level table of `text`; errors name `source` and the line and column.
    static func parse(_ text: String, source: String) throws(JacoError) -> [String: ConfigValue] {
        var parser = Parser(bytes: Array(text.utf8))
        do {
            return try parser.document()
        } catch {
            throw JacoError(.configInvalid, "\(source):\(error.line):\(error.column): \(error.message)")
        }
    }

    /// A syntax error at a position.
    struct SyntaxError: Error {
        var message: String
        var line: Int
        var column: Int
    }

    /// A table being built, and how it came to be (which decides what may extend it).
    private final class Table {
        enum Origin {
            /// A `[header]`, or a parent a header implied (which a header may define later).
            case header
            /// A dotted key (`a.b = 1`): only more dotted keys of the same table extend it.
            case dotted
            /// An inline table: closed.
            case inline
        }

        let origin: Origin
        var values: [String: Node] = [:]
        var order: [String] = []
        /// Defined by its own `[header]` (not only implied by a longer one).
        var explicitlyDefined = false

        init(_ origin: Origin) { self.origin = origin }

        func set(_ key: String, _ node: Node) {
            if values[key] == nil { order.append(key) }
            values[key] = node
        }
    }

    private enum Node {
        case value(ConfigValue)
        case table(Table)
        case tableArray([Table])
    }

    /// Nesting of arrays and inline tables accepted at most.
    static let maxDepth = 64

    private struct Parser {
        let bytes: [UInt8]
        var i = 0
        var line = 1
        var lineStart = 0
        var depth = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        // MARK: Document

        mutating func document() throws(SyntaxError) -> [String: ConfigValue] {
            let root = Table(.header)
            var current = root
            while true {
                skipWhitespace()
                guard let byte = peek() else { break }
                switch byte {
                case UInt8(ascii: "#"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    try endOfLine()
                case UInt8(ascii: "["):
                    current = try header(root: root)
                    try endOfLine()
                default:
                    try keyValue(into: current)
                    try endOfLine()
                }
            }
            return Self.convert(root)
        }

        /// `[a.b]` or `[[a.b]]`: the table later key/values go into.
        private mutating func header(root: Table) throws(SyntaxError) -> Table {
            i += 1
            let isArray = peek() == UInt8(ascii: "[")
            if isArray { i += 1 }
            skipWhitespace()
            let keys = try dottedKey()
            skipWhitespace()
            try expect("]", "a table header must end with ']'")
            if isArray { try expect("]", "an array-of-tables header must end with ']]'") }
            var table = root
            for (index, key) in keys.enumerated() {
                let last = index == keys.count - 1
                switch table.values[key] {
                case nil:
                    let made = Table(.header)
                    if last {
                        if isArray {
                            table.set(key, .tableArray([made]))
                        } else {
                            made.explicitlyDefined = true
                            table.set(key, .table(made))
                        }
                    } else {
                        table.set(key, .table(made))
                    }
                    table = made
                case .table(let existing)?:
                    if existing.origin != .header { throw error("'\(Self.path(keys))': '\(key)' was defined as an inline table or by a dotted key; a header cannot extend it") }
                    if last {
                        if isArray { throw error("'\(Self.path(keys))' is a table, not an array of tables") }
                        if existing.explicitlyDefined { throw error("the table [\(Self.path(keys))] is defined twice") }
                        existing.explicitlyDefined = true
                    }
                    table = existing
                case .tableArray(var tables)?:
                    if last {
                        guard isArray else { throw error("'\(Self.path(keys))' is an array of tables; write [[\(Self.path(keys))]]") }
                        let made = Table(.header)
                        tables.append(made)
                        table.values[key] = .tableArray(tables)
                        table = made
                    } else {
                        table = tables[tables.count - 1]
                    }
                case .value?:
                    throw error("'\(Self.path(Array(keys.prefix(index + 1))))' already holds a value; it cannot also be a table")
                }
            }
            return table
        }

        /// `key = value` (the key may be dotted).
        private mutating func keyValue(into table: Table) throws(SyntaxError) {
            let keys = try dottedKey()
            skipWhitespace()
            try expect("=", "expected '=' after the key '\(Self.path(keys))'")
            skipWhitespace()
            let value = try self.value()
            var target = table
            for key in keys.dropLast() {
                switch target.values[key] {
                case nil:
                    let made = Table(.dotted)
                    target.set(key, .table(made))
                    target = made
                case .table(let existing)? where existing.origin == .dotted:
                    target = existing
                case .table?:
                    throw error("'\(Self.path(keys))': the table '\(key)' is defined elsewhere (by a header or inline); set its keys there")
                default:
                    throw error("'\(Self.path(keys))': '\(key)' already holds a value; it cannot also be a table")
                }
            }
            let last = keys[keys.count - 1]
            guard target.values[last] == nil else { throw error("the key '\(Self.path(keys))' is set twice") }
            target.set(last, value)
        }

        /// One or more keys joined by dots.
        private mutating func dottedKey() throws(SyntaxError) -> [String] {
            var keys = [try simpleKey()]
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: ".") else { return keys }
                i += 1
                skipWhitespace()
                keys.append(try simpleKey())
            }
        }

        /// A bare key (letters, digits, `_`, `-`) or a quoted one.
        private mutating func simpleKey() throws(SyntaxError) -> String {
            guard let byte = peek() else { throw error("expected a key, found the end of the file") }
            if byte == UInt8(ascii: "\"") { return try basicString() }
            if byte == UInt8(ascii: "'") { return try literalString() }
            let start = i
            while let b = peek(), Self.isBareKeyByte(b) { i += 1 }
            guard i > start else { throw error("expected a key (letters, digits, '_', '-', or a quoted key), found \(describe(byte))") }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        // MARK: Values

        private mutating func value() throws(SyntaxError) -> Node {
            guard let byte = peek() else { throw error("expected a value, found the end of the file") }
            switch byte {
            case UInt8(ascii: "\""):
                return .value(.string(try startsWith("\"\"\"") ? multilineBasicString() : basicString()))
            case UInt8(ascii: "'"):
                return .value(.string(try startsWith("'''") ? multilineLiteralString() : literalString()))
            case UInt8(ascii: "["):
                return .value(try array())
            case UInt8(ascii: "{"):
                return .table(try inlineTable())
            case UInt8(ascii: "t") where startsWith("true"):
                i += 4
                return .value(.bool(true))
            case UInt8(ascii: "f") where startsWith("false"):
                i += 5
                return .value(.bool(false))
            default:
                return .value(try number())
            }
        }

        private mutating func array() throws(SyntaxError) -> ConfigValue {
            try enter()
            defer { depth -= 1 }
            i += 1
            var items: [ConfigValue] = []
            while true {
                try skipWhitespaceCommentsAndNewlines()
                guard let byte = peek() else { throw error("an array is not closed with ']'") }
                if byte == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                }
                switch try value() {
                case .value(let v): items.append(v)
                case .table(let t): items.append(.table(Self.convert(t)))
                case .tableArray: throw error("unexpected array of tables")
                }
                try skipWhitespaceCommentsAndNewlines()
                guard let next = peek() else { throw error("an array is not closed with ']'") }
                if next == UInt8(ascii: ",") {
                    i += 1
                } else if next != UInt8(ascii: "]") {
                    throw error("expected ',' or ']' in an array, found \(describe(next))")
                }
            }
        }

        private mutating func inlineTable() throws(SyntaxError) -> Table {
            try enter()
            defer { depth -= 1 }
            i += 1
            let table = Table(.inline)
            skipWhitespace()
            if peek() == UInt8(ascii: "}") {
                i += 1
                return table
            }
            while true {
                skipWhitespace()
                try keyValue(into: table)
                skipWhitespace()
                guard let next = peek() else { throw error("an inline table is not closed with '}'") }
                i += 1
                if next == UInt8(ascii: "}") { return table }
                guard next == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an inline table, found \(describe(next))") }
            }
        }

        /// Integers and floats, and the dates and times that are refused.
        private mutating func number() throws(SyntaxError) -> ConfigValue {
            let start = i
            while let b = peek(), Self.isValueByte(b) { i += 1 }
            let text = String(decoding: bytes[start..<i], as: UTF8.self)
            guard !text.isEmpty else { throw error("expected a value (a string, number, true, false, array or inline table), found \(describe(bytes[start]))") }
            if let value = Self.integer(text) { return .integer(value) }
            if let value = Self.float(text) { return .double(value) }
            if text.count >= 5, text.dropFirst(4).first == "-" || text.contains(":") {
                throw error("'\(EchoedInput.quote(text))': dates and times are not used in Jaco's config; write a string")
            }
            throw error("'\(EchoedInput.quote(text))' is not a valid value (strings need quotes)")
        }

        // MARK: Strings

        private mutating func basicString() throws(SyntaxError) -> String {
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

        private mutating func literalString() throws(SyntaxError) -> String {
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

        private mutating func multilineBasicString() throws(SyntaxError) -> String {
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

        private mutating func multilineLiteralString() throws(SyntaxError) -> String {
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
        private mutating func closesMultiline(_ quote: UInt8, appendingTo out: inout [UInt8]) -> Bool {
            guard i + 3 <= bytes.count, bytes[i] == quote, bytes[i + 1] == quote, bytes[i + 2] == quote else { return false }
            var quotes = 3
            while quotes < 5, i + quotes < bytes.count, bytes[i + quotes] == quote { quotes += 1 }
            out += Array(repeating: quote, count: quotes - 3)
            i += quotes
            return true
        }

        private mutating func escape(into out: inout [UInt8]) throws(SyntaxError) {
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

        private func utf8(_ bytes: [UInt8]) throws(SyntaxError) -> String {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw error("a string is not valid UTF-8") }
            return text
        }

        // MARK: Lexing helpers

        private func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        private func startsWith(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            return text.withUTF8Buffer { prefix in (0..<count).allSatisfy { bytes[i + $0] == prefix[$0] } }
        }

        private mutating func expect(_ character: Unicode.Scalar, _ message: String) throws(SyntaxError) {
            guard peek() == UInt8(character.value) else {
                throw error(peek().map { "\(message), found \(describe($0))" } ?? "\(message), found the end of the file")
            }
            i += 1
        }

        private mutating func enter() throws(SyntaxError) {
            depth += 1
            if depth > TOMLConfigParser.maxDepth { throw error("arrays and inline tables are nested more than \(TOMLConfigParser.maxDepth) deep") }
        }

        private mutating func skipWhitespace() {
            while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { i += 1 }
        }

        private mutating func newLine() {
            i += 1
            line += 1
            lineStart = i
        }

        private mutating func skipOneNewline() {
            if startsWith("\r\n") { i += 1 }
            if peek() == UInt8(ascii: "\n") { newLine() }
        }

        /// Whitespace, comments and newlines (inside arrays).
        private mutating func skipWhitespaceCommentsAndNewlines() throws(SyntaxError) {
            while let b = peek() {
                if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: "\r") {
                    i += 1
                } else if b == UInt8(ascii: "\n") {
                    newLine()
                } else if b == UInt8(ascii: "#") {
                    try comment()
                } else {
                    return
                }
            }
        }

        private mutating func comment() throws(SyntaxError) {
            while let b = peek(), b != UInt8(ascii: "\n") {
                if Self.isControl(b) && b != UInt8(ascii: "\t") && !(b == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n")) {
                    throw error("control character \(describe(b)) in a comment")
                }
                i += 1
            }
        }

        /// After a header or key/value: optional whitespace and comment, then a newline or the end.
        private mutating func endOfLine() throws(SyntaxError) {
            skipWhitespace()
            if peek() == UInt8(ascii: "#") { try comment() }
            if startsWith("\r\n") { i += 1 }
            guard let byte = peek() else { return }
            guard byte == UInt8(ascii: "\n") else { throw error("expected the end of the line, found \(describe(byte))") }
            newLine()
        }

        private func error(_ message: String) -> SyntaxError {
            // Columns count characters, not bytes.
            let column = String(decoding: bytes[lineStart..<min(i, bytes.count)], as: UTF8.self).count + 1
            return SyntaxError(message: message, line: line, column: column)
        }

        private func describe(_ byte: UInt8) -> String {
            switch byte {
            case UInt8(ascii: "\n"): "the end of the line"
            case 0x20...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
            default: "byte 0x\(String(byte, radix: 16, uppercase: true))"
            }
        }

        private func describeRaw(_ byte: UInt8) -> String {
            (0x21...0x7E).contains(byte) ? String(Character(Unicode.Scalar(byte))) : "0x\(String(byte, radix: 16, uppercase: true))"
        }

        // MARK: Classification and conversion

        static func isBareKeyByte(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }

        /// Bytes a number (or a refused date) may contain.
        static func isValueByte(_ b: UInt8) -> Bool {
            isBareKeyByte(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: ".") || b == UInt8(ascii: ":")
        }

        static func isControl(_ b: UInt8) -> Bool { b < 0x20 || b == 0x7F }

        /// TOML integers: optional sign, `_` only between digits, no leading zeros; `0x`, `0o`, `0b`.
        static func integer(_ text: String) -> Int? {
            var body = Substring(text)
            var sign = 1
            if body.first == "+" || body.first == "-" {
                sign = body.first == "-" ? -1 : 1
                body = body.dropFirst()
            }
            var radix = 10
            if body.count > 2, body.hasPrefix("0x") || body.hasPrefix("0o") || body.hasPrefix("0b") {
                guard text.first != "+", text.first != "-" else { return nil }
                radix = body.hasPrefix("0x") ? 16 : body.hasPrefix("0o") ? 8 : 2
                body = body.dropFirst(2)
            } else if body.count > 1, body.first == "0" {
                return nil
            }
            guard let digits = underscoresRemoved(body), let magnitude = Int(digits, radix: radix) else { return nil }
            return sign == 1 ? magnitude : (magnitude == Int.min ? nil : -magnitude)
        }

        /// TOML floats: an integer part, then a fraction and/or an exponent; `inf`, `nan`.
        static func float(_ text: String) -> Double? {
            var body = Substring(text)
            var sign = 1.0
            if body.first == "+" || body.first == "-" {
                sign = body.first == "-" ? -1 : 1
                body = body.dropFirst()
            }
            if body == "inf" { return sign * .infinity }
            if body == "nan" { return .nan }
            let exponentIndex = body.firstIndex { $0 == "e" || $0 == "E" }
            let mantissa = exponentIndex.map { body[..<$0] } ?? body
            let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count <= 2, let integerPart = parts.first, let integerDigits = underscoresRemoved(integerPart),
                integerDigits.count == 1 || integerDigits.first != "0"
            else { return nil }
            var normalized = integerDigits
            if parts.count == 2 {
                guard let fraction = underscoresRemoved(parts[1]) else { return nil }
                normalized += "." + fraction
            }
            if let exponentIndex {
                var exponent = body[body.index(after: exponentIndex)...]
                var exponentSign = ""
                if exponent.first == "+" || exponent.first == "-" {
                    exponentSign = String(exponent.first!)
                    exponent = exponent.dropFirst()
                }
                guard let digits = underscoresRemoved(exponent) else { return nil }
                normalized += "e" + exponentSign + digits
            } else if parts.count == 1 {
                return nil  // an integer, not a float
            }
            return Double(normalized).map { sign * $0 }
        }

        /// Digits with `_` only between two digits; nil otherwise or when empty.
        static func underscoresRemoved(_ text: Substring) -> String? {
            guard !text.isEmpty, text.first != "_", text.last != "_", !text.contains("__") else { return nil }
            let digits = text.filter { $0 != "_" }
            guard digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
            return String(digits)
        }

        static func path(_ keys: [String]) -> String { keys.joined(separator: ".") }

        static func convert(_ table: Table) -> [String: ConfigValue] {
            var out: [String: ConfigValue] = [:]
            for key in table.order {
                switch table.values[key] {
                case .value(let value)?: out[key] = value
                case .table(let nested)?: out[key] = .table(convert(nested))
                case .tableArray(let tables)?: out[key] = .array(tables.map { .table(convert($0)) })
                case nil: break
                }
            }
            return out
        }
    }
}
