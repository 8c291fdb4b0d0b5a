import Foundation
import Testing

/// Every fuzz target's seed corpus (Fuzz/corpus/) and every input a fuzzer once broke it with
/// (Fuzz/regressions/) run through the same targets (the jaco-fuzz replayer of a normal build):
/// none may crash. scripts/fuzz.sh does the fuzzing itself.
@Suite("Fuzz corpora and regressions")
struct FuzzCorpusTests {
    static let fuzz = Build.root.appendingPathComponent("Fuzz")

    static var targets: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: fuzz.appendingPathComponent("corpus").path)) ?? []).sorted()
    }

    @Test("The replayer knows every target that has a corpus, and each corpus has seeds")
    func targetsMatchCorpora() async throws {
        let listed = try await offPool { try runToCompletion(Build.products.appendingPathComponent("jaco-fuzz"), ["--list"]) }
        #expect(listed.status == 0, "\(listed.stderr)")
        let names = listed.stdout.split(separator: "\n").compactMap { $0.split(separator: "\t").first.map(String.init) }
        #expect(names.sorted() == Self.targets, "targets \(names) vs corpora \(Self.targets)")
        #expect(Self.targets.count >= 6)
    }

    @Test("Seeds and regressions run through their target without a crash", arguments: targets)
    func replay(target: String) async throws {
        var inputs = [Self.fuzz.appendingPathComponent("corpus/\(target)").path]
        let regressions = Self.fuzz.appendingPathComponent("regressions/\(target)")
        if FileManager.default.fileExists(atPath: regressions.path) { inputs.append(regressions.path) }
        let arguments = [target] + inputs
        let run = try await offPool { try runToCompletion(Build.products.appendingPathComponent("jaco-fuzz"), arguments, timeout: 120) }
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        let count = run.stdout.firstMatch(of: /(\d+) inputs ran/).flatMap { Int($0.1) } ?? 0
        #expect(count > 0, "\(run.stdout)")
    }
}
