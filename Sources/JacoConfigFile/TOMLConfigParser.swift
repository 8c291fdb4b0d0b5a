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
    final class Table {
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

    enum Node {
        case value(ConfigValue)
        case table(Table)
        case tableArray([Table])
    }

    /// Nesting of arrays and inline tables accepted at most.
    static let maxDepth = 64

    struct Parser {
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
        mutating func header(root: Table) throws(SyntaxError) -> Table {
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
        mutating func keyValue(into table: Table) throws(SyntaxError) {
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
        mutating func dottedKey() throws(SyntaxError) -> [String] {
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
        mutating func simpleKey() throws(SyntaxError) -> String {
            guard let byte = peek() else { throw error("expected a key, found the end of the file") }
            if byte == UInt8(ascii: "\"") { return try basicString() }
            if byte == UInt8(ascii: "'") { return try literalString() }
            let start = i
            while let b = peek(), Self.isBareKeyByte(b) { i += 1 }
            guard i > start else { throw error("expected a key (letters, digits, '_', '-', or a quoted key), found \(describe(byte))") }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        // MARK: Values

        mutating func value() throws(SyntaxError) -> Node {
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

        mutating func array() throws(SyntaxError) -> ConfigValue {
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

        mutating func inlineTable() throws(SyntaxError) -> Table {
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

        // MARK: Lexing helpers

        func peek() -> UInt8? { i < bytes.count ? bytes[i] : nil }

        func startsWith(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard i + count <= bytes.count else { return false }
            return text.withUTF8Buffer { prefix in (0..<count).allSatisfy { bytes[i + $0] == prefix[$0] } }
        }

        mutating func expect(_ character: Unicode.Scalar, _ message: String) throws(SyntaxError) {
            guard peek() == UInt8(character.value) else {
                throw error(peek().map { "\(message), found \(describe($0))" } ?? "\(message), found the end of the file")
            }
            i += 1
        }

        mutating func enter() throws(SyntaxError) {
            depth += 1
            if depth > TOMLConfigParser.maxDepth { throw error("arrays and inline tables are nested more than \(TOMLConfigParser.maxDepth) deep") }
        }

        mutating func skipWhitespace() {
            while let b = peek(), b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") { i += 1 }
        }

        mutating func newLine() {
            i += 1
            line += 1
            lineStart = i
        }

        mutating func skipOneNewline() {
            if startsWith("\r\n") { i += 1 }
            if peek() == UInt8(ascii: "\n") { newLine() }
        }

        /// Whitespace, comments and newlines (inside arrays).
        mutating func skipWhitespaceCommentsAndNewlines() throws(SyntaxError) {
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

        mutating func comment() throws(SyntaxError) {
            while let b = peek(), b != UInt8(ascii: "\n") {
                if Self.isControl(b) && b != UInt8(ascii: "\t") && !(b == UInt8(ascii: "\r") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n")) {
                    throw error("control character \(describe(b)) in a comment")
                }
                i += 1
            }
        }

        /// After a header or key/value: optional whitespace and comment, then a newline or the end.
        mutating func endOfLine() throws(SyntaxError) {
            skipWhitespace()
            if peek() == UInt8(ascii: "#") { try comment() }
            if startsWith("\r\n") { i += 1 }
            guard let byte = peek() else { return }
            guard byte == UInt8(ascii: "\n") else { throw error("expected the end of the line, found \(describe(byte))") }
            newLine()
        }

        func error(_ message: String) -> SyntaxError {
            // Columns count characters, not bytes.
            let column = String(decoding: bytes[lineStart..<min(i, bytes.count)], as: UTF8.self).count + 1
            return SyntaxError(message: message, line: line, column: column)
        }

        func describe(_ byte: UInt8) -> String {
            switch byte {
            case UInt8(ascii: "\n"): "the end of the line"
            case 0x20...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
            default: "byte 0x\(String(byte, radix: 16, uppercase: true))"
            }
        }

        func describeRaw(_ byte: UInt8) -> String {
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
