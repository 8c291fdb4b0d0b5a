/// Jaco's version and well-known defaults.
public enum Jaco {
    /// The version reported by `jaco cluster status` and `--version`.
    public static let version = "0.1.0"
    /// Where the CLI looks for the cluster CA when neither `--ca-cert` nor `JACO_CA_CERT` is set.
    public static let defaultCACertificate = "/var/lib/jaco/node/ca.crt"
}
