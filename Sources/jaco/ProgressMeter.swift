import Foundation

/// Progress of long work on stderr: one line redrawn in place on a terminal (with a rate and,
/// when the total is known, an ETA), or a plain line every 10% (or every 5 s) otherwise.
final class ProgressMeter: @unchecked Sendable {
    private let label: String
    private let unit: String
    private let started = Date()
    private let onTerminal = isatty(STDERR_FILENO) == 1
    private var lastDraw = Date.distantPast
    private var lastDecile = -1
    private var drawn = false
    private let lock = NSLock()

    /// A meter for `label` (e.g. `copied`) counting `unit` (e.g. `records`).
    init(label: String, unit: String) {
        self.label = label
        self.unit = unit
    }

    /// Reports `done` of `total` (nil when unknown).
    func update(_ done: Double, of total: Double?) {
        lock.lock()
        defer { lock.unlock() }
        let now = Date()
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = done / elapsed
        var line = "\(label) \(Self.number(done))\(total.map { "/\(Self.number($0))" } ?? "") \(unit), \(Self.number(rate)) \(unit)/s"
        if let total, total > 0 {
            let percent = min(100, Int(done / total * 100))
            let eta = rate > 0 ? (total - done) / rate : 0
            line = "[\(String(repeating: "=", count: percent / 5))\(String(repeating: " ", count: 20 - percent / 5))] \(percent)% " + line + ", ETA \(Int(eta.rounded())) s"
            if !onTerminal {
                guard percent / 10 > lastDecile else { return }
                lastDecile = percent / 10
            }
        } else if !onTerminal, now.timeIntervalSince(lastDraw) < 5 {
            return
        }
        if onTerminal, now.timeIntervalSince(lastDraw) < 0.1 { return }
        lastDraw = now
        drawn = true
        FileHandle.standardError.write(Data((onTerminal ? "\r\u{1B}[K" + line : line + "\n").utf8))
    }

    /// Ends the redrawn line.
    func finish() {
        lock.lock()
        defer { lock.unlock() }
        if onTerminal, drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    private static func number(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? String(Int(value.rounded())) : String(format: "%.1f", value)
    }
}
