import Foundation

extension Date {
    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-23T18:32:14Z`.
    public var rfc3339: String {
        formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}

extension Date {
    /// Milliseconds since 1970, as the store and the wire carry times.
    public var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// A date from milliseconds since 1970.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Now, truncated to whole milliseconds (what the store keeps).
    public static func nowMilliseconds() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
