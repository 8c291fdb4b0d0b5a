import Foundation

/// JSON string literals written by hand, where a whole encoder is not needed.
public enum JSONText {
    /// `text` as a JSON string literal; with `escapingHTML`, `<`, `>`, `&`, U+2028 and U+2029
    /// are escaped as Go's `encoding/json` writes them.
    public static func quoted(_ text: String, escapingHTML: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where escapingHTML && ["<", ">", "&", "\u{2028}", "\u{2029}"].contains(scalar): out += String(format: "\\u%04x", scalar.value)
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
