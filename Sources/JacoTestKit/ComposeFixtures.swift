/// Compose manifests for admission tests: a `db` service and a `web` service whose gated
/// fields and allow-label vary.
public enum ComposeFixtures {
    /// Which gating fields `web` sets.
    public enum Gated: String, CaseIterable, Sendable {
        case none, privileged, securityOpt = "security-opt", both
    }

    /// How `web` carries the `jaco.io/allow-privileged` label.
    public enum Label: String, CaseIterable, Sendable {
        case map, list, missing, wrong
    }

    /// The manifest text.
    public static func manifest(_ gated: Gated, _ label: Label) -> String {
        var service = "    image: nginx\n"
        if gated == .privileged || gated == .both { service += "    privileged: true\n" }
        if gated == .securityOpt || gated == .both { service += "    security_opt:\n      - seccomp=unconfined\n" }
        switch label {
        case .map: service += "    labels:\n      jaco.io/allow-privileged: \"true\"\n"
        case .list: service += "    labels:\n      - jaco.io/allow-privileged=true\n"
        case .missing: break
        case .wrong: service += "    labels:\n      jaco.io/allow-privileged: \"false\"\n"
        }
        return "services:\n  db:\n    image: postgres\n  web:\n" + service
    }
}
