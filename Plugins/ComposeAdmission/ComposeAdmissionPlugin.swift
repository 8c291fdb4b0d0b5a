import JacoKernel

/// Admission policies for compose manifests.
public enum ComposeAdmissionPlugin {
    /// The largest manifest accepted, in bytes (1 MiB).
    public static let maxManifestBytes = ManifestPrescan.maxBytes

    /// The `privileged` policy: gates `privileged: true` and `security_opt:` services behind a
    /// label and a token that allows privileged workloads. It also checks the compose schema.
    public static func privilegedGate() -> any AdmissionPolicy { PrivilegedGate() }

    /// Policies by `[admission] policies` name.
    public static let policies: [String: @Sendable () -> any AdmissionPolicy] = ["privileged": privilegedGate]
}
