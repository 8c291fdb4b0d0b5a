import Foundation

extension Date {
    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-23T18:32:14Z`.
    public var rfc3339: String {
        formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}

extension Date {
    /// Now, truncated to whole milliseconds (what the store keeps).
    public static func nowMilliseconds() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
