import Foundation
import JacoKernel

/// Reads a JSON object the way Go's `encoding/json` fills a struct: a key matches a field by
/// exact name or, failing that, case-insensitively; when several keys match one field the last
/// wins; null leaves the zero value; unknown keys are refused by ``rejectUnknownFields(_:)``
/// (Consul decodes with `DisallowUnknownFields`); a wrong type is an error worded
/// as Go words it (`json: cannot unmarshal string into Go struct field ACLToken.Local of type bool`).
package struct GoStructDecoder {
    /// A decoding error; `message` is what follows Consul's "Token decoding failed: ".
    package struct Failure: Error {
        var message: String
    }

    /// The Go struct name used in messages, e.g. `ACLToken`.
    let structName: String
    /// The field path so far, for nested structs (e.g. `Policies`).
    let path: String
    private let members: [(key: String, value: JSONValue)]

    /// A decoder for `value`, which must be an object (Go: `cannot unmarshal array into Go
    /// value of type structs.ACLToken`).
    init(_ value: JSONValue, structName: String, goType: String, path: String = "") throws(Failure) {
        guard case .object(let members) = value else {
            throw Failure(message: "json: cannot unmarshal \(value.goKind) into Go value of type \(goType)")
        }
        self.structName = structName
        self.path = path
        self.members = members
    }

    private init(members: [(key: String, value: JSONValue)], structName: String, path: String) {
        self.structName = structName
        self.path = path
        self.members = members
    }

    /// Fails on the first key that names no field of the struct, as Consul's `lib.DecodeJSON`
    /// does with `DisallowUnknownFields` (Go: `json: unknown field "Policy"`). Matching is by
    /// exact name or case-insensitively, as for reading.
    func rejectUnknownFields(_ known: Set<String>) throws(Failure) {
        let lowered = Set(known.map { $0.lowercased() })
        for member in members where !known.contains(member.key) && !lowered.contains(member.key.lowercased()) {
            throw Failure(message: "json: unknown field \"\(EchoedInput.quote(member.key))\"")
        }
    }

    /// The value for `field`, or nil when absent or null.
    func value(_ field: String) -> JSONValue? {
        let lowered = field.lowercased()
        let match = members.last { $0.key == field || $0.key.lowercased() == lowered }?.value
        if case .null = match { return nil }
        return match
    }

    private func mismatch(_ field: String, _ value: JSONValue, goType: String) -> Failure {
        let fieldPath = path.isEmpty ? field : "\(path).\(field)"
        return Failure(message: "json: cannot unmarshal \(value.goKind) into Go struct field \(structName).\(fieldPath) of type \(goType)")
    }

    /// A string field ("" when absent).
    func string(_ field: String) throws(Failure) -> String {
        guard let value = value(field) else { return "" }
        guard case .string(let s) = value else { throw mismatch(field, value, goType: "string") }
        return s
    }

    /// A bool field (false when absent).
    func bool(_ field: String) throws(Failure) -> Bool {
        guard let value = value(field) else { return false }
        guard case .bool(let b) = value else { throw mismatch(field, value, goType: "bool") }
        return b
    }

    /// An unsigned integer field, checked and otherwise ignored (e.g. CreateIndex on input).
    func checkUInt64(_ field: String) throws(Failure) {
        guard let value = value(field) else { return }
        guard case .number(let n) = value, UInt64(n) != nil else { throw mismatch(field, value, goType: "uint64") }
    }

    /// A `[]string` field.
    func strings(_ field: String) throws(Failure) -> [String] {
        guard let value = value(field) else { return [] }
        guard case .array(let items) = value else { throw mismatch(field, value, goType: "[]string") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item else { throw mismatch(field, item, goType: "string") }
            out.append(s)
        }
        return out
    }

    /// A list of nested structs, each read by `read`.
    func structs<T>(_ field: String, structName nested: String, _ read: (GoStructDecoder) throws(Failure) -> T) throws(Failure) -> [T] {
        guard let value = value(field) else { return [] }
        guard case .array(let items) = value else { throw mismatch(field, value, goType: "[]*structs.\(nested)") }
        var out: [T] = []
        for (index, item) in items.enumerated() {
            // Go would decode a nil pointer, which Consul then dereferences: refused instead.
            if case .null = item {
                throw Failure(message: "\(path.isEmpty ? field : "\(path).\(field)")[\(index)] is null: each element must be an object")
            }
            guard case .object(let members) = item else { throw mismatch(field, item, goType: "structs.\(nested)") }
            out.append(try read(GoStructDecoder(members: members, structName: structName, path: path.isEmpty ? field : "\(path).\(field)")))
        }
        return out
    }

    /// A `time.Time` field: an RFC 3339 string.
    func time(_ field: String) throws(Failure) -> Date? {
        guard let value = value(field) else { return nil }
        guard case .string(let s) = value else { throw mismatch(field, value, goType: "time.Time") }
        guard let date = RFC3339.parse(s) else {
            throw Failure(message: "parsing time \"\(s)\" as \"2006-01-02T15:04:05Z07:00\": cannot parse it as RFC 3339")
        }
        return date
    }

    /// A duration as Consul accepts it: a Go duration string (`"60s"`) or nanoseconds.
    func duration(_ field: String) throws(Failure) -> TimeInterval {
        guard let value = value(field) else { return 0 }
        switch value {
        case .string(let s):
            do { return try GoDuration.parse(s) } catch { throw Failure(message: error.message) }
        case .number(let n):
            guard let nanoseconds = Double(n) else { throw mismatch(field, value, goType: "time.Duration") }
            return nanoseconds / 1e9
        default:
            throw mismatch(field, value, goType: "time.Duration")
        }
    }

    /// Refuses a field Jaco does not implement when a non-empty value would grant rights; a
    /// value of another JSON type than `goType` is Go's unmarshal error.
    func refuse(_ field: String, goType: String, because reason: String) throws(Failure) {
        guard let value = value(field) else { return }
        switch (value, goType.hasPrefix("[]")) {
        case (.array, true), (.string, false): break
        default: throw mismatch(field, value, goType: goType)
        }
        if !value.isEmpty {
            throw Failure(message: "\(field) is not supported by Jaco (\(reason)); remove it from the request")
        }
    }
}

/// RFC 3339 timestamps as Go writes and reads them.
enum RFC3339 {
    /// Parses `2026-11-23T18:32:14Z`, with optional fractional seconds and a numeric offset.
    static func parse(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
