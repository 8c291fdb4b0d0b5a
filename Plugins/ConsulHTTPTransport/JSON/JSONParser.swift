/// Parses JSON text into ``JSONValue``, with Go's error wording for syntax errors.
package struct JSONParser {
    /// A syntax error, worded as Go's `encoding/json` words it.
    package struct SyntaxError: Error {
        package var message: String
    }

    /// The deepest nesting accepted.
    static let maxDepth = 256

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0

    /// Parses one JSON value from `bytes`; trailing non-space text is an error. Empty input is
    /// Go's `EOF`.
    package static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipSpace()
        if parser.i == bytes.count { throw SyntaxError(message: "EOF") }
        let value = try parser.value()
        parser.skipSpace()
        if parser.i < bytes.count {
            throw SyntaxError(message: "invalid character \(parser.describe(parser.bytes[parser.i])) after top-level value")
        }
        return value
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    private func describe(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "'"): "'\\''"
        case UInt8(ascii: "\""): "'\"'"
        case 0x20...0x7E: "'\(Character(Unicode.Scalar(byte)))'"
        default: "'\\x\(String(byte, radix: 16))'"
        }
    }

    private func unexpectedEnd() -> SyntaxError { SyntaxError(message: "unexpected end of JSON input") }

    private mutating func value() throws(SyntaxError) -> JSONValue {
        guard i < bytes.count else { throw unexpectedEnd() }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw SyntaxError(message: "invalid character \(describe(bytes[i])) looking for beginning of value")
        }
    }

    private mutating func nest() throws(SyntaxError) {
        depth += 1
        if depth > Self.maxDepth { throw SyntaxError(message: "exceeded max depth of \(Self.maxDepth)") }
    }

    private mutating func object() throws(SyntaxError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        var members: [(key: String, value: JSONValue)] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
            i += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard i < bytes.count else { throw unexpectedEnd() }
            guard bytes[i] == UInt8(ascii: "\"") else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) looking for beginning of object key string")
            }
            let key = try string()
            skipSpace()
            guard i < bytes.count else { throw unexpectedEnd() }
            guard bytes[i] == UInt8(ascii: ":") else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) after object key")
            }
            i += 1
            skipSpace()
            members.append((key, try value()))
            skipSpace()
            guard i < bytes.count else { throw unexpectedEnd() }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
            throw SyntaxError(message: "invalid character \(describe(bytes[i])) after object key:value pair")
        }
    }

    private mutating func array() throws(SyntaxError) -> JSONValue {
        try nest()
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
            i += 1
            return .array(items)
        }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard i < bytes.count else { throw unexpectedEnd() }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            throw SyntaxError(message: "invalid character \(describe(bytes[i])) after array element")
        }
    }

    private mutating func literal(_ word: String) throws(SyntaxError) {
        for expected in word.utf8 {
            guard i < bytes.count else { throw unexpectedEnd() }
            guard bytes[i] == expected else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) in literal \(word) (expecting '\(Character(Unicode.Scalar(expected)))')")
            }
            i += 1
        }
    }

    private mutating func number() throws(SyntaxError) -> String {
        let start = i
        func digits() { while i < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) { i += 1 } }
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        guard i < bytes.count else { throw unexpectedEnd() }
        if bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(bytes[i]) {
            digits()
        } else {
            throw SyntaxError(message: "invalid character \(describe(bytes[i])) in numeric literal")
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard i < bytes.count else { throw unexpectedEnd() }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) after decimal point in numeric literal")
            }
            digits()
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < bytes.count, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard i < bytes.count else { throw unexpectedEnd() }
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[i]) else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) in exponent of numeric literal")
            }
            digits()
        }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    private mutating func string() throws(SyntaxError) -> String {
        i += 1
        var scalars = String.UnicodeScalarView()
        var run = i
        func flush(_ end: Int) { scalars.append(contentsOf: String(decoding: bytes[run..<end], as: UTF8.self).unicodeScalars) }
        while true {
            guard i < bytes.count else { throw unexpectedEnd() }
            let c = bytes[i]
            if c == UInt8(ascii: "\"") {
                flush(i)
                i += 1
                return String(scalars)
            }
            if c < 0x20 { throw SyntaxError(message: "invalid character \(describe(c)) in string literal") }
            if c != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            flush(i)
            i += 1
            guard i < bytes.count else { throw unexpectedEnd() }
            let escape = bytes[i]
            i += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    let save = i
                    i += 2
                    let low = try hex4()
                    if (0xDC00..<0xE000).contains(low) {
                        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        i = save
                    }
                }
                scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            default:
                throw SyntaxError(message: "invalid character \(describe(escape)) in string escape code")
            }
            run = i
        }
    }

    private mutating func hex4() throws(SyntaxError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw unexpectedEnd() }
            guard let digit = UInt32(String(Unicode.Scalar(bytes[i])), radix: 16) else {
                throw SyntaxError(message: "invalid character \(describe(bytes[i])) in \\u hexadecimal character escape")
            }
            code = code << 4 | digit
            i += 1
        }
        return code
    }
}
