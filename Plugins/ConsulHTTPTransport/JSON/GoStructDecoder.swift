import Foundation
import JacoKernel

/// Reads a JSON object the way Go's `encoding/json` fills a struct: a key matches a field by
/// exact name or, failing that, case-insensitively; when several keys match one field the last
/// wins; null leaves the zero value; unknown keys are ignored; a wrong type is an error worded
/// as Go words it (`json: cannot unmarshal string into Go struct field ACLToken.Local of type bool`).
struct GoStructDecoder {
    /// A decoding error; `message` is what follows Consul's "Token decoding failed: ".
    struct Failure: Error {
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
        for item in items {
            if case .null = item { continue }
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

    /// Refuses a field Jaco does not implement when a non-empty value would grant rights.
    func refuse(_ field: String, because reason: String) throws(Failure) {
        if let value = value(field), !value.isEmpty {
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

    /// Formats with milliseconds when they are not zero, in UTC: `2026-11-23T18:32:14.123Z`.
    /// Written out by hand: Foundation's formatters cost tens of microseconds per call here.
    static func format(_ date: Date) -> String {
        let millis = date.milliseconds
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let fraction = Int(millis - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = Int(seconds - days * 86400)
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        var text = "\(year)-\(two(month))-\(two(day))T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        if fraction != 0 { text += fraction < 10 ? ".00\(fraction)" : fraction < 100 ? ".0\(fraction)" : ".\(fraction)" }
        return text + "Z"
    }
}
