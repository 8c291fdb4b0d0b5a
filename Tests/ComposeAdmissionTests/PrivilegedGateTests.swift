import ComposeAdmission
import JacoKernel
import JacoTestKit
import Testing

let gate = ComposeAdmissionPlugin.privilegedGate()
let plain = Principal(accessorID: "a", identity: "alice", policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: false, acl: .write)
let privileged = Principal(accessorID: "b", identity: "ci-deploy", policyIDs: [BuiltIn.globalManagementPolicyID], allowsPrivileged: true, acl: .write)

func validationError(_ text: String) -> JacoError? {
    do {
        _ = try gate.validate(Array(text.utf8))
        return nil
    } catch {
        return error
    }
}

@Suite("Compose schema")
struct ComposeSchemaTests {
    @Test("Bad input gets a clear validation_failed", arguments: [
        ("services: [", "not valid YAML"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("version: '3'\n", "no 'services:' key"),
        ("services: 3\n", "'services' must be a mapping"),
        ("services: {}\n", "'services' is empty"),
        ("services:\n  web: nginx\n", "service 'web' must be a mapping"),
        ("services:\n  web:\n    image: nginx\n    privilegd: true\n", "service 'web': unknown field 'privilegd' (supported: build,"),
        ("services:\n  web:\n    privileged: maybe\n", "'privileged' must be true or false"),
        ("services:\n  web:\n    security_opt: seccomp=unconfined\n", "'security_opt' must be a list"),
        // Keys that are not scalars, refused before the YAML parser sees them.
        ("services:\n  web:\n    image: nginx\n? [a]\n: b\n", "an explicit key ('? ') as a mapping key (line 4)"),
        ("services:\n  web:\n    image: nginx\n[a, [b]]: c\n", "a [ ] or { } collection as a mapping key (line 4)"),
        ("services: {web: {image: nginx}, {x: 1}: 2}\n", "a [ ] or { } collection"),
        ("base: &b [x]\nservices:\n  web:\n    image: nginx\n*b : 1\n", "an alias ('*name') as a mapping key (line 5)"),
        ("services:\n  - ? - ? - x\n", "an explicit key"),
    ])
    func badInput(text: String, expected: String) {
        let error = validationError(text)
        #expect(error?.code == .validationFailed)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("A 10 MB manifest is refused by size, before parsing")
    func huge() {
        let text = "services:\n  web:\n    image: nginx\n" + String(repeating: "# padding\n", count: 1_000_000)
        let error = validationError(text)
        #expect(error?.message.contains("the limit is 1048576 bytes") == true)
    }

    @Test("Deep nesting is refused without a crash or a hang", arguments: [
        "services: " + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000),
        "services:\n" + (1...400).map { String(repeating: " ", count: $0) + "k\($0):\n" }.joined(),
    ])
    func deep(text: String) {
        let error = validationError(text)
        #expect(error?.code == .validationFailed)
        #expect(error?.message.contains("nested too deeply") == true, "\(String(describing: error))")
    }

    @Test("Non-UTF-8 bytes are refused")
    func notText() {
        let error: JacoError?
        do { _ = try gate.validate([0xFF, 0xFE, 0x00]); error = nil } catch let e { error = e }
        #expect(error?.message.contains("not UTF-8") == true)
    }
}

/// The gate's matrix, in process: {plain, privileged} × {no gated field, privileged,
/// security_opt, both} × {label map, label list, missing, wrong value}.
@Suite("Privileged gate")
struct PrivilegedGateTests {
    typealias Gated = ComposeFixtures.Gated
    typealias Label = ComposeFixtures.Label

    static func manifest(_ gated: Gated, _ label: Label) -> String { ComposeFixtures.manifest(gated, label) }

    struct Case: Sendable, CustomTestStringConvertible {
        let privilegedToken: Bool
        let gated: Gated
        let label: Label
        var testDescription: String { "\(privilegedToken ? "privileged" : "plain") token, \(gated), label \(label)" }
        static let all = [false, true].flatMap { token in Gated.allCases.flatMap { g in Label.allCases.map { Case(privilegedToken: token, gated: g, label: $0) } } }
    }

    @Test("Every combination gets the reference outcome", arguments: Case.all)
    func matrix(_ c: Case) {
        let chain = AdmissionChain([gate])
        let outcome: Result<AdmissionReview, JacoError>
        do { outcome = .success(try chain.admit(Array(Self.manifest(c.gated, c.label).utf8), for: c.privilegedToken ? privileged : plain)) } catch { outcome = .failure(error) }
        let labelOK = c.label == .map || c.label == .list
        switch (c.gated, labelOK, c.privilegedToken) {
        case (.none, _, _):
            #expect((try? outcome.get())?.gatedServices == [])
        case (_, false, _):
            guard case .failure(let error) = outcome else { Issue.record("expected validation_failed"); return }
            #expect(error.code == .validationFailed)
            #expect(error.message.contains("service 'web'"))
            #expect(error.message.contains(c.gated == .securityOpt ? "'security_opt'" : "'privileged'"))
        case (_, true, false):
            guard case .failure(let error) = outcome else { Issue.record("expected permission_denied"); return }
            #expect(error.code == .permissionDenied)
            #expect(error.message.contains("service 'web'"))
        case (_, true, true):
            #expect((try? outcome.get())?.gatedServices == ["web"])
        }
    }
}

@Suite("Manifest prescan")
struct ManifestPrescanTests {
    @Test("Quotes and non-comment '#' cannot hide deep nesting", arguments: [
        "services: 'x" + String(repeating: "[", count: 5000),
        "services: a#" + String(repeating: "{", count: 5000),
    ])
    func cannotHide(text: String) {
        let error = validationError(text)
        #expect(error?.message.contains("nested too deeply") == true, "\(String(describing: error))")
    }

    @Test("Duplicate deep keys cannot make the parser's duplicate check exponential")
    func exponentialDuplicateCheck() {
        // Yams sorts duplicate keys with a comparison that doubles per level of nesting: at depth
        // 30 this took hours before the key check. Now refused at once.
        let deep = String(repeating: "[", count: 30) + "a" + String(repeating: "]", count: 30)
        let text = "services:\n  web:\n    image: nginx\n" + ["[\(deep), 1]: 1", "[\(deep), 1]: 1", "[\(deep), 2]: 2", "[\(deep), 2]: 2"].joined(separator: "\n")
        #expect(validationError(text)?.message.contains("collection as a mapping key") == true)
    }

    @Test("Look-alikes in strings, comments and block scalars are not keys")
    func lookAlikes() {
        let text = """
            services:
              web:
                image: nginx
                command: "echo [a]: b"
                entrypoint: ['sh', '-c', 'x ? y', 'it''s [1]: 2']
                labels:
                  note: a ? b # {x}: y
                  script: |
                    ? not a key
                    [a]: b
                  after: "*x : y"
                environment: {A: "[1]: 2", B: 'x'}
            """
        #expect(validationError(text) == nil, "\(String(describing: validationError(text)))")
    }

    @Test("Brackets in comments do not count")
    func comments() {
        let text = "# " + String(repeating: "[", count: 500) + "\nservices:\n  web:\n    image: nginx # {{{{\n"
        #expect(validationError(text) == nil)
    }
}

@Suite("Alias expansion")
struct AliasExpansionTests {
    @Test("A 'billion laughs' manifest is handled without expanding it")
    func billionLaughs() throws {
        var text = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1...9 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        text += "services:\n  web:\n    image: nginx\n    command: *a9\n"
        // Expanded, the command would hold 10^10 strings; the check must not build them.
        let review = try gate.validate(Array(text.utf8))
        #expect(review.services == ["web"])
    }
}
