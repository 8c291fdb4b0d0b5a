import JacoKernel

/// Cheap checks before the YAML parser sees a manifest, so that huge or pathologically nested
/// input is refused quickly instead of exhausting memory or the stack.
enum ManifestPrescan {
    /// The largest manifest accepted.
    static let maxBytes = 1 << 20
    /// The deepest nesting of flow collections (`[` `{`) accepted.
    static let maxFlowDepth = 64
    /// The deepest block indentation accepted, in columns.
    static let maxIndent = 256

    static func check(_ manifest: [UInt8]) throws(JacoError) {
        guard manifest.count <= maxBytes else {
            throw JacoError(.validationFailed, "the manifest is \(manifest.count) bytes; the limit is \(maxBytes) bytes (1 MiB)")
        }
        var depth = 0, maxDepth = 0, column = 0, atLineStart = true
        var quote: UInt8? = nil
        for byte in manifest {
            if byte == UInt8(ascii: "\n") {
                column = 0
                atLineStart = true
                if quote == UInt8(ascii: "#") { quote = nil }
                continue
            }
            if atLineStart {
                if byte == UInt8(ascii: " ") {
                    column += 1
                    if column > maxIndent {
                        throw JacoError(.validationFailed, "the manifest is indented deeper than \(maxIndent) columns; it is nested too deeply to be a compose file")
                    }
                    continue
                }
                atLineStart = false
            }
            if let open = quote {
                if byte == open || (open == UInt8(ascii: "#") && false) { quote = nil }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = byte
            case UInt8(ascii: "#"): quote = UInt8(ascii: "#")  // a comment runs to the end of the line
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                maxDepth = max(maxDepth, depth)
                if maxDepth > maxFlowDepth {
                    throw JacoError(.validationFailed, "the manifest nests [ ] or { } deeper than \(maxFlowDepth) levels; it is nested too deeply to be a compose file")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
    }
}
