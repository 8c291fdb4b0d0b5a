import Foundation

/// The daemon's certificates, as transports see them: what to report in a status call, and
/// client certificates for mutual TLS signed by the cluster CA.
public protocol ClusterCertificates: Sendable {
    /// Every certificate the daemon uses (server, CA, client CA, etcd client), read now.
    func inventory() -> [CertificateSummary]
    /// Signs a client certificate (client authentication only) for `name` over the key in
    /// `requestPEM` (a PKCS#10 request the client made; its private key never leaves it),
    /// valid for `days`. Fails `validation_failed` for a bad request or name, and
    /// `failed_precondition` when this daemon does not hold the CA's key.
    func issueClientCertificate(name: String, requestPEM: String, days: Int) throws(JacoError) -> IssuedClientCertificate
}

/// One certificate in use, for status output and expiry warnings.
public struct CertificateSummary: Sendable, Equatable {
    /// What it is for: `server`, `ca`, `client-ca`, `etcd-client`, `client`.
    public var role: String
    /// Its subject, e.g. `O=Jaco,CN=jacod`.
    public var subject: String
    /// When it stops being valid.
    public var notAfter: Date
    /// When it started being valid.
    public var notBefore: Date
    /// The file it was read from.
    public var path: String

    /// Creates a summary.
    public init(role: String, subject: String, notBefore: Date, notAfter: Date, path: String) {
        self.role = role
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.path = path
    }
}

/// A client certificate the cluster CA signed.
public struct IssuedClientCertificate: Sendable {
    /// The certificate, PEM.
    public var certificatePEM: String
    /// Its serial number, hex.
    public var serial: String
    /// When it expires.
    public var notAfter: Date
    /// The CA certificate that signed it, PEM (what the listener's `client_ca` must hold).
    public var caCertificatePEM: String

    /// Creates the record.
    public init(certificatePEM: String, serial: String, notAfter: Date, caCertificatePEM: String) {
        self.certificatePEM = certificatePEM
        self.serial = serial
        self.notAfter = notAfter
        self.caCertificatePEM = caCertificatePEM
    }
}
