/// Input quoted back in an error, bounded and made safe to print: at most ``maxCharacters``
/// characters (then a count of the rest), with control characters, bidirectional overrides and
/// other invisible formatting escaped as `\u{…}`, so a hostile name can neither flood a gRPC
/// trailer nor rewrite an operator's terminal.
public enum EchoedInput {
    /// The most characters of one input an error quotes.
    public static let maxCharacters = 128

    /// `text` as an error may quote it.
    public static func quote(_ text: String) -> String {
        let kept = text.prefix(maxCharacters)
        var out = escape(String(kept))
        if kept.count < text.count { out += "…(\(text.count - kept.count) more characters)" }
        return out
    }

    /// A whole message made safe to send or print: escaped, and cut to `limit` characters. The
    /// transports apply it to every error, behind the per-input ``quote(_:)``.
    public static func bounded(_ message: String, limit: Int = 1024) -> String {
        let escaped = escape(message)
        return escaped.count <= limit ? escaped : String(escaped.prefix(limit)) + "…"
    }

    /// `text` with control, bidi and other format characters escaped (no length bound).
    public static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            if isUnsafe(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16, uppercase: true))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// C0/C1 controls (newline and tab included), and format characters such as the bidi
    /// overrides U+202A–U+202E and U+2066–U+2069 and zero-width ones.
    static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned, .surrogate: true
        default: false
        }
    }
}
