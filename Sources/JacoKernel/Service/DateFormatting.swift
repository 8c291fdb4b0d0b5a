import Foundation

extension Date {
    /// RFC 3339 in UTC with whole seconds, e.g. `2026-11-23T18:32:14Z`.
    public var rfc3339: String { rfc3339(milliseconds: false) }

    /// RFC 3339 in UTC with milliseconds when they are not zero, e.g. `2026-11-23T18:32:14.123Z`
    /// (as Go prints times, trailing zeros dropped to whole seconds).
    public var rfc3339Milliseconds: String { rfc3339(milliseconds: true) }

    /// Written out by hand: Foundation's formatters cost tens of microseconds per call, which
    /// showed in the Consul API's per-request profile.
    private func rfc3339(milliseconds withFraction: Bool) -> String {
        let millis = milliseconds
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
        if withFraction, fraction != 0 { text += fraction < 10 ? ".00\(fraction)" : fraction < 100 ? ".0\(fraction)" : ".\(fraction)" }
        return text + "Z"
    }
}

extension Date {
    /// Milliseconds since 1970, as the store and the wire carry times; clamped to ±8.64e15
    /// (ECMAScript's range, ±273,790 years), so a date from outside input never traps.
    public var milliseconds: Int64 { milliseconds(rounded: .toNearestOrAwayFromZero) }

    /// Milliseconds since 1970 rounded down, as ``nowMilliseconds()`` keeps a time; clamped as ``milliseconds``.
    public var millisecondsRoundedDown: Int64 { milliseconds(rounded: .down) }

    private func milliseconds(rounded rule: FloatingPointRoundingRule) -> Int64 {
        let milliseconds = (timeIntervalSince1970 * 1000).rounded(rule)
        guard milliseconds.isFinite else { return 0 }
        return Int64(max(-Self.millisecondRange, min(Self.millisecondRange, milliseconds)))
    }

    /// The largest magnitude ``milliseconds`` gives.
    static let millisecondRange = 8.64e15

    /// A date from milliseconds since 1970.
    public init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }

    /// Now, truncated to whole milliseconds (what the store keeps).
    public static func nowMilliseconds() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }
}
