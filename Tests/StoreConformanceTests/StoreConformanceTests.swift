import JacoKernel
import JacoTestKit
import Testing

/// One engine paired with one check; the list is derived, never written out by hand.
struct ConformanceCase: Sendable, CustomTestStringConvertible {
    let kind: StoreKind
    let check: StoreConformanceCheck

    var testDescription: String { "\(kind): \(check.name)" }

    /// Every check on every engine, except durability checks on engines that are not durable.
    static let all: [ConformanceCase] = StoreKind.allCases.flatMap { kind in
        StoreConformance.checks.filter { !$0.needsDurability || kind.isDurable }.map { ConformanceCase(kind: kind, check: $0) }
    }
}

@Suite("Store conformance")
struct StoreConformanceTests {
    @Test("Every engine passes every check", arguments: ConformanceCase.all)
    func conformance(_ testCase: ConformanceCase) async throws {
        let fixture = try EngineFixture(kind: testCase.kind)
        defer { fixture.remove() }
        try await testCase.check.run(fixture)
    }

    @Test("Every engine runs the durability checks or is declared not durable")
    func durabilityChecksCoverDurableEngines() {
        let durableChecks = StoreConformance.checks.filter(\.needsDurability).count
        #expect(durableChecks > 0)
        for kind in StoreKind.allCases where kind.isDurable {
            #expect(ConformanceCase.all.filter { $0.kind == kind }.count == StoreConformance.checks.count)
        }
    }
}
