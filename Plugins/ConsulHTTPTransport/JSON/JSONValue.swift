/// A JSON document as Go's decoder sees it: object members keep their order and duplicates
/// (the last one wins when decoding), numbers keep their text.
package enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    /// Go's name for the JSON type, as its decoder's errors use it.
    var goKind: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Whether the value is null, an empty string, array or object, or false: what Go's zero
    /// value would be.
    var isEmpty: Bool {
        switch self {
        case .null: true
        case .bool(let b): !b
        case .number(let n): Double(n) == 0
        case .string(let s): s.isEmpty
        case .array(let a): a.isEmpty
        case .object(let o): o.isEmpty
        }
    }

    /// Compact JSON text.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Compact JSON as UTF-8 bytes.
    package var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        write(to: &out)
        return out
    }

    /// Appends the compact JSON to `out`.
    func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += "null".utf8
        case .bool(let b): out += (b ? "true" : "false").utf8
        case .number(let n): out += n.utf8
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Writes a JSON string as Go does: `<`, `>`, `&`, U+2028 and U+2029 escaped too, so the
    /// output can sit inside HTML. Bytes that need no escape are copied as they are.
    /// Appends `text` as a JSON string, escaped as Go's encoder escapes it.
    static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var i = 0
            var run = 0  // start of the bytes not yet copied
            while i < utf8.count {
                let c = utf8[i]
                // Most bytes need nothing: one table look-up, then on to the next.
                if !needsAttention[Int(c)] {
                    i += 1
                    continue
                }
                var escape: [UInt8]?
                var width = 1
                switch c {
                case UInt8(ascii: "\""): escape = Array("\\\"".utf8)
                case UInt8(ascii: "\\"): escape = Array("\\\\".utf8)
                case UInt8(ascii: "\n"): escape = Array("\\n".utf8)
                case UInt8(ascii: "\r"): escape = Array("\\r".utf8)
                case UInt8(ascii: "\t"): escape = Array("\\t".utf8)
                case UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&"), 0..<0x20: escape = unicodeEscape(UInt32(c))
                case 0xE2 where i + 2 < utf8.count && utf8[i + 1] == 0x80 && (utf8[i + 2] == 0xA8 || utf8[i + 2] == 0xA9):
                    escape = unicodeEscape(utf8[i + 2] == 0xA8 ? 0x2028 : 0x2029)
                    width = 3
                default: break
                }
                if let escape {
                    out += UnsafeBufferPointer(rebasing: utf8[run..<i])
                    out += escape
                    run = i + width
                }
                i += width
            }
            out += UnsafeBufferPointer(rebasing: utf8[run..<utf8.count])
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Bytes the escaping switch must look at: quotes, backslash, control characters, `<>&`
    /// and 0xE2 (the lead byte of U+2028 and U+2029), as Go's encoder escapes them.
    private static let needsAttention: [Bool] = (0...255).map { byte in
        byte < 0x20 || byte == 0xE2 || [UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "&")].contains(UInt8(byte))
    }

    private static func unicodeEscape(_ value: UInt32) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        return Array("\\u".utf8) + stride(from: 12, through: 0, by: -4).map { digits[Int((value >> UInt32($0)) & 0xF)] }
    }
}
