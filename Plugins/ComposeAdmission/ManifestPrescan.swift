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
        // Brackets are counted everywhere except in comments (a '#' at the start of a line or
        // after a space, as YAML has it): over-counting inside strings only makes the check
        // stricter, and nothing can hide nesting from it.
        var depth = 0, maxDepth = 0, column = 0, atLineStart = true, inComment = false
        var previous: UInt8 = UInt8(ascii: "\n")
        for byte in manifest {
            defer { previous = byte }
            if byte == UInt8(ascii: "\n") {
                column = 0
                atLineStart = true
                inComment = false
                continue
            }
            if inComment { continue }
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
            switch byte {
            case UInt8(ascii: "#") where previous == UInt8(ascii: " ") || previous == UInt8(ascii: "\t") || previous == UInt8(ascii: "\n"):
                inComment = true
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
        try ManifestKeyCheck.check(manifest)
    }
}
