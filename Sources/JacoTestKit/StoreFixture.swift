import JacoKernel

/// Opens one engine for the conformance suite. `open()` called again after `close()` must
/// reopen the same data for durable engines, and give a fresh store for the others.
public protocol StoreFixture: Sendable {
    /// The engine's name, for test output.
    var name: String { get }
    /// Whether data survives close and reopen.
    var isDurable: Bool { get }
    /// Opens (or reopens) the store.
    func open() async throws -> any Storage & FaultInjecting
}

/// A failed conformance check: names the rule that was broken.
public struct ConformanceFailure: Error, CustomStringConvertible {
    /// The rule, written as what should hold.
    public var rule: String
    /// What was seen instead.
    public var observed: String
    public var description: String { "\(rule) — observed: \(observed)" }
}

/// Fails with `rule` unless `condition` holds.
func expect(_ condition: Bool, _ rule: String, observed: @autoclosure () -> String = "it did not") throws {
    if !condition { throw ConformanceFailure(rule: rule, observed: observed()) }
}
