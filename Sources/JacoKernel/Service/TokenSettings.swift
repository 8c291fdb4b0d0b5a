import Foundation

/// Limits and timings of `jaco` tokens (`[tokens]` in the config).
public struct TokenSettings: Sendable {
    /// The longest TTL `jaco token issue --ttl` may ask for; nil for no bound.
    public var maxTTL: TimeInterval?
    /// The shortest TTL (Consul's minimum; lowered for tests only).
    public var minTTL: TimeInterval = 60
    /// How often last-used times are written to the store (at most once per token per period).
    public var lastUsedFlush: Duration = .seconds(60)
    /// How often failed authentications are written to the audit log, in aggregate.
    public var failedAuthAudit: Duration = .seconds(60)
    /// The longest rotation grace window.
    public var maxGrace: TimeInterval = 30 * 86_400
    /// The most live tokens one auth method's logins may hold at once, so a login storm cannot
    /// fill the store (expired ones count until the reaper deletes them).
    public var maxLoginTokensPerMethod = 10_000

    /// The defaults: no TTL bound, a one-minute minimum, last-used written every minute.
    public init() {}

    /// Checks a requested TTL against the bounds, naming the flag.
    func check(ttl: TimeInterval) throws(JacoError) {
        guard ttl >= minTTL else {
            throw JacoError(.validationFailed, "--ttl \(DurationText.format(ttl)) is shorter than the minimum, \(DurationText.format(minTTL))")
        }
        if let maxTTL, ttl > maxTTL {
            throw JacoError(.validationFailed, "--ttl \(DurationText.format(ttl)) is longer than [tokens] max_ttl, \(DurationText.format(maxTTL))")
        }
    }
}

/// Durations as people write them: Go-style (`90s`, `1h30m`, `500ms`) plus days (`30d`).
public enum DurationText {
    /// Parses `text`; nil when it is not a duration.
    public static func parse(_ text: String) -> TimeInterval? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }

    /// `seconds` as the largest whole units, e.g. `30d`, `1h30m`, `45s`.
    public static func format(_ seconds: TimeInterval) -> String {
        var left = Int(seconds.rounded())
        if left == 0 { return seconds > 0 ? "\(Int((seconds * 1000).rounded()))ms" : "0s" }
        var parts: [String] = []
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] where left >= size {
            parts.append("\(left / size)\(unit)")
            left %= size
        }
        return parts.joined()
    }
}
