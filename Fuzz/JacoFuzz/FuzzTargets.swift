import ComposeAdmission
import ConsulHTTPTransport
import Foundation
import JacoConfigFile
import JWTAuthMethod
import JacoKernel

/// One parser of outside bytes, as a fuzz target: it must return (accepting or refusing the
/// input with an error) and never crash, hang or break an invariant it states.
struct FuzzTarget: Sendable {
    /// The name `JACO_FUZZ_TARGET` and the corpus directory use.
    let name: String
    /// What it feeds the input to.
    let summary: String
    /// Runs one input.
    let run: @Sendable ([UInt8]) -> Void
}

/// Every fuzz target (scripts/fuzz.sh runs each; Fuzz/corpus/<name>/ holds its seeds).
enum FuzzTargets {
    static let all: [FuzzTarget] = [consulJSON, compose, config, secret, record, snapshot, selector, jwt]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    /// The Consul API's JSON reader (Go's syntax and errors) and the Go-struct decoders of
    /// token, policy and role bodies. Invariant: what parses re-encodes to text that parses
    /// back to the same value.
    static let consulJSON = FuzzTarget(name: "consul-json", summary: "JSONParser + ConsulJSON token/policy/role decoding") { bytes in
        guard let value = try? JSONParser.parse(bytes) else { return }
        guard let again = try? JSONParser.parse(value.bytes), again == value else {
            fatalError("JSON round trip changed the value: \(String(decoding: value.bytes, as: UTF8.self).prefix(200))")
        }
        _ = try? ConsulJSON.tokenRequest(value)
        _ = try? ConsulJSON.policyRequest(value)
        _ = try? ConsulJSON.roleRequest(value)
    }

    /// `jaco apply` manifests: the compose prescan and schema checks of the privileged gate.
    static let compose = FuzzTarget(name: "compose", summary: "ComposeAdmission prescan + validator") { bytes in
        _ = try? ComposeAdmissionPlugin.privilegedGate().validate(bytes)
    }

    /// Config files: the TOML reader and the section typing.
    static let config = FuzzTarget(name: "config", summary: "JacoConfig.parse (TOML)") { bytes in
        guard let config = try? JacoConfig.parse(String(decoding: bytes, as: UTF8.self), source: "fuzz.toml") else { return }
        for name in ["storage", "hashing", "tokens", "tls", "admission", "client"] {
            let section = config.section(name)
            for key in section.values.keys {
                _ = try? section.string(key, default: "")
                _ = try? section.integer(key, default: 0, range: Int.min...Int.max)
                _ = try? section.bool(key, default: false)
            }
        }
    }

    /// Presented secrets: the shape and checksum checks that run before any hashing.
    static let secret = FuzzTarget(name: "secret", summary: "SecretFormat shape and checksum checks") { bytes in
        _ = bytes.withUnsafeBufferPointer { SecretFormat.shapeProblem(of: $0) }
        _ = bytes.withUnsafeBufferPointer { SecretFormat.problem(with: $0) }
        _ = SecretFormat.isUUID(String(decoding: bytes, as: UTF8.self))
    }

    /// Stored records (a corrupt store must be an error, never a crash). Input: the key, a
    /// newline, the value; the key's prefix picks the decoder.
    static let record = FuzzTarget(name: "record", summary: "RecordCodec: token, policy, role, audit event, audit head") { bytes in
        let newline = bytes.firstIndex(of: 10) ?? bytes.endIndex
        let key = String(decoding: bytes[..<newline], as: UTF8.self)
        let value = Data(bytes[min(newline + 1, bytes.endIndex)...])
        if key.hasPrefix("t/") {
            // The cache's lean decode reads the same records the same way.
            let token = try? Token(decoding: value, key: key)
            let cached = try? CachedToken(decoding: value, key: key)
            guard token.map(CachedToken.init) == cached else { fatalError("CachedToken and Token disagree on a record") }
        }
        if key.hasPrefix("p/") { _ = try? Policy(decoding: value, key: key) }
        if key.hasPrefix("r/") { _ = try? Role(decoding: value, key: key) }
        if key.hasPrefix("a/") { _ = try? AuditEvent(decoding: value, key: key) }
        if key == "m/audit-head" { _ = try? AuditHead(decoding: value, key: key) }
        if key.hasPrefix("am/") { _ = try? AuthMethod(decoding: value, key: key) }
        if key.hasPrefix("br/") { _ = try? BindingRule(decoding: value, key: key) }
    }

    /// Logins' bearer tokens (split, header, claims checked and mapped) and jwt auth-method
    /// configs (first byte even: a token; odd: a config).
    static let jwt = FuzzTarget(name: "jwt", summary: "JWTAuthMethod: bearer token split, claim checks and mappings; Config") { bytes in
        JWTFuzzEntry.run(bytes)
    }

    /// Binding-rule selectors (Consul's expression syntax), as `PUT /v1/acl/binding-rule`
    /// takes them: parsed, checked against a method's fields, and evaluated on a login's.
    static let selector = FuzzTarget(name: "selector", summary: "BindingSelector parse, check and evaluation") { bytes in
        guard let selector = try? BindingSelector(parsing: String(decoding: bytes, as: UTF8.self)) else { return }
        let blank = VerifiedIdentity(values: ["namespace": "", "sub": ""], lists: ["groups": []])
        _ = try? selector.check(against: blank)
        _ = selector.matches(VerifiedIdentity(values: ["namespace": "ci", "sub": "build-7"], lists: ["groups": ["deployers", "admins"]]))
        _ = selector.matches(blank)
    }

    /// Snapshot files. The checksum is SHA-256 over blocks, which a fuzzer cannot forge, so
    /// this target hashes with a stand-in whose every hash is zero and appends the matching
    /// 32-byte checksum: the input is a snapshot's body, and the reader past the checksum is
    /// what gets fuzzed.
    static let snapshot = FuzzTarget(name: "snapshot", summary: "SnapshotFile.read past its checksum") { bytes in
        _ = try? SnapshotFile.read(Data(bytes + [UInt8](repeating: 0, count: 32)), hasher: ZeroHasher())
    }
}

/// A hasher whose every digest is zero (the snapshot target's stand-in for SHA-256).
struct ZeroHasher: SecretHasher {
    static let zero = [UInt8](repeating: 0, count: 32).withUnsafeBytes { Digest256(bytes: $0) }
    var algorithm: String { "sha256" }
    func digest(ofSecret bytes: UnsafeRawBufferPointer) -> Digest256 { Self.zero }
    func contentHash(_ bytes: UnsafeRawBufferPointer) -> Digest256 { Self.zero }
}
