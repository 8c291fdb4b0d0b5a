import Foundation

/// Durations written the way Go writes them (`90s`, `1h30m`, `1.5h`, `300ms`), as Consul
/// clients send and expect them.
public enum GoDuration {
    /// Parses Go's duration syntax into seconds; the error text matches Go's.
    public static func parse(_ text: String) throws(JacoError) -> TimeInterval {
        func invalid() -> JacoError { JacoError(.validationFailed, "time: invalid duration \"\(EchoedInput.quote(text))\"") }
        var chars = Substring(text)
        var sign = 1.0
        if let first = chars.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            chars = chars.dropFirst()
        }
        if chars == "0" { return 0 }
        guard !chars.isEmpty else { throw invalid() }
        var total = 0.0
        while !chars.isEmpty {
            let number = chars.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard !number.isEmpty, number != ".", number.filter({ $0 == "." }).count <= 1, let value = Double(number) else { throw invalid() }
            chars = chars.dropFirst(number.count)
            let unit = chars.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard !unit.isEmpty else { throw JacoError(.validationFailed, "time: missing unit in duration \"\(EchoedInput.quote(text))\"") }
            chars = chars.dropFirst(unit.count)
            guard let scale = units[String(unit)] else {
                throw JacoError(.validationFailed, "time: unknown unit \"\(EchoedInput.quote(String(unit)))\" in duration \"\(EchoedInput.quote(text))\"")
            }
            total += value * scale
        }
        return sign * total
    }

    private static let units: [String: Double] = [
        "ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600,
    ]

    /// Formats seconds as Go's `Duration.String()` does: `24h0m0s`, `1m0s`, `1.5s`, `300ms`.
    public static func format(_ seconds: TimeInterval) -> String {
        if seconds == 0 { return "0s" }
        let negative = seconds < 0
        let magnitude = abs(seconds)
        var text: String
        if magnitude < 1 {
            text = trimmed(magnitude * 1000) + "ms"
        } else {
            let hours = Int(magnitude / 3600)
            let minutes = Int((magnitude - Double(hours) * 3600) / 60)
            let rest = magnitude - Double(hours) * 3600 - Double(minutes) * 60
            text = trimmed(rest) + "s"
            if hours > 0 || minutes > 0 { text = "\(minutes)m" + text }
            if hours > 0 { text = "\(hours)h" + text }
        }
        return negative ? "-" + text : text
    }

    private static func trimmed(_ value: Double) -> String {
        let rounded = (value * 1000).rounded() / 1000
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
