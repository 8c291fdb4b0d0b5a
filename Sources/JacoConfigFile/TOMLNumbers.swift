import JacoKernel

/// TOML numbers: integers (decimal, hex, octal, binary, `_` between digits) and floats, and
/// the dates and times Jaco's config refuses.
extension TOMLConfigParser.Parser {
    /// Integers and floats, and the dates and times that are refused.
    mutating func number() throws(TOMLConfigParser.SyntaxError) -> ConfigValue {
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

    /// Whether `text` starts with `-`, and the rest after an optional sign.
    static func signAndBody(_ text: String) -> (negative: Bool, body: Substring) {
        guard let first = text.first, first == "+" || first == "-" else { return (false, Substring(text)) }
        return (first == "-", text.dropFirst())
    }

    /// TOML integers: optional sign, `_` only between digits, no leading zeros; `0x`, `0o`, `0b`.
    static func integer(_ text: String) -> Int? {
        var (negative, body) = signAndBody(text)
        var radix = 10
        if body.count > 2, body.hasPrefix("0x") || body.hasPrefix("0o") || body.hasPrefix("0b") {
            guard text.first != "+", text.first != "-" else { return nil }
            radix = body.hasPrefix("0x") ? 16 : body.hasPrefix("0o") ? 8 : 2
            body = body.dropFirst(2)
        } else if body.count > 1, body.first == "0" {
            return nil
        }
        guard let digits = underscoresRemoved(body), let magnitude = Int(digits, radix: radix) else { return nil }
        return negative ? -magnitude : magnitude
    }

    /// TOML floats: an integer part, then a fraction and/or an exponent; `inf`, `nan`.
    static func float(_ text: String) -> Double? {
        let (negative, body) = signAndBody(text)
        let sign = negative ? -1.0 : 1.0
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
}
