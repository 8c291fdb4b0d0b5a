import Foundation

extension Date {
    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-23T18:32:14Z`.
    public var rfc3339: String {
        formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}
