import Foundation

/// One table of the config file (e.g. `[storage]`) with typed accessors whose errors name the
/// file, the section and the key. Each plugin validates its own keys through it.
public struct ConfigSection: Sendable {
    /// The section's name, e.g. `storage`.
    public let name: String
    /// The section's values.
    public let values: [String: ConfigValue]
    /// The file it came from, for error messages (`<built-in>` for the embedded default).
    public let source: String

    /// Creates a section.
    public init(name: String, values: [String: ConfigValue], source: String) {
        self.name = name
        self.values = values
        self.source = source
    }

    /// Fails naming the first key that is not in `allowed`, and lists the valid ones.
    public func rejectUnknownKeys(allowed: [String]) throws(JacoError) {
        for key in values.keys.sorted() where !allowed.contains(key) {
            throw error("unknown key '\(key)' (valid: \(allowed.joined(separator: ", ")))")
        }
    }

    /// A string value, `fallback` when absent.
    public func string(_ key: String, default fallback: String) throws(JacoError) -> String {
        try optionalString(key) ?? fallback
    }

    /// A string value, nil when absent.
    public func optionalString(_ key: String) throws(JacoError) -> String? {
        switch values[key] {
        case nil: return nil
        case .string(let value): return value
        case let other?: throw typeError(key, expected: "a string", found: other)
        }
    }

    /// A list of strings, nil when absent.
    public func optionalStringList(_ key: String) throws(JacoError) -> [String]? {
        switch values[key] {
        case nil: return nil
        case .array(let items):
            var strings: [String] = []
            for item in items {
                guard case .string(let text) = item else { throw error("'\(key)' must be a list of strings, e.g. [\"a\", \"b\"]") }
                strings.append(text)
            }
            return strings
        case let other?: throw typeError(key, expected: "a list of strings", found: other)
        }
    }

    /// A string that must be one of `choices`.
    public func choice(_ key: String, default fallback: String, from choices: [String]) throws(JacoError) -> String {
        let value = try string(key, default: fallback)
        guard choices.contains(value) else {
            throw error("'\(key)' is '\(value)' (valid: \(choices.joined(separator: ", ")))")
        }
        return value
    }

    /// An integer within `range`.
    public func integer(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(JacoError) -> Int {
        let value: Int
        switch values[key] {
        case nil: value = fallback
        case .integer(let v): value = v
        case let other?: throw typeError(key, expected: "an integer", found: other)
        }
        guard range.contains(value) else { throw error("'\(key)' is \(value); it must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    /// A boolean.
    public func bool(_ key: String, default fallback: Bool) throws(JacoError) -> Bool {
        switch values[key] {
        case nil: return fallback
        case .bool(let v): return v
        case let other?: throw typeError(key, expected: "true or false", found: other)
        }
    }

    /// A size in bytes: an integer, or a string such as `"512MiB"`, `"1GiB"`, `"64KiB"`.
    public func byteSize(_ key: String, default fallback: Int, range: ClosedRange<Int>) throws(JacoError) -> Int {
        let value: Int
        switch values[key] {
        case nil: value = fallback
        case .integer(let v): value = v
        case .string(let text):
            guard let parsed = Self.parseByteSize(text) else {
                throw error("'\(key)' is '\(text)'; write a byte count or a size such as \"512MiB\" or \"2GiB\"")
            }
            value = parsed
        case let other?: throw typeError(key, expected: "a size", found: other)
        }
        guard range.contains(value) else { throw error("'\(key)' is \(value) bytes; it must be between \(range.lowerBound) and \(range.upperBound)") }
        return value
    }

    /// A path; a relative one is taken relative to `base` (the data directory).
    public func path(_ key: String, default fallback: String, relativeTo base: URL) throws(JacoError) -> URL {
        let text = try string(key, default: fallback)
        guard !text.isEmpty else { throw error("'\(key)' is empty; give a path") }
        return text.hasPrefix("/") ? URL(fileURLWithPath: text) : base.appendingPathComponent(text)
    }

    /// An error about this section.
    public func error(_ detail: String) -> JacoError {
        JacoError(.configInvalid, "\(source): [\(name)] \(detail)")
    }

    private func typeError(_ key: String, expected: String, found: ConfigValue) -> JacoError {
        error("'\(key)' must be \(expected), not \(found.typeName)")
    }

    static func parseByteSize(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Int(trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)) else { return nil }
            return number.multipliedReportingOverflow(by: factor).overflow ? nil : number * factor
        }
        return Int(trimmed)
    }
}
