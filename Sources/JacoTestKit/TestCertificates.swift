import ClusterTLS
import Foundation

/// A throwaway PKI for tests of TLS to other servers (etcd): one CA, a server certificate for
/// 127.0.0.1 and localhost, and a client certificate, written as PEM files into a directory.
public struct TestCertificates: Sendable {
    /// The CA certificate that signed both.
    public var caCertificate: URL
    /// The server's certificate and key (SANs 127.0.0.1 and localhost; server and client auth).
    public var serverCertificate: URL, serverKey: URL
    /// A client certificate and key (client auth), as an mTLS client presents.
    public var clientCertificate: URL, clientKey: URL

    /// Creates the CA and both certificates in `directory` (files `ca.crt`, `server.crt`,
    /// `server.key`, `client.crt`, `client.key`). `commonName` names the CA.
    public static func create(in directory: URL, commonName: String = "Jaco test CA") throws -> TestCertificates {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let authority = try CertificateAuthority.create(commonName: commonName, years: 1)
        let server = try authority.issueCertificate(commonName: "etcd", names: ["127.0.0.1", "localhost"], usages: [.serverAuth, .clientAuth], years: 1)
        let client = try authority.issueCertificate(commonName: "jaco", names: [], usages: [.clientAuth], years: 1)
        let files = TestCertificates(
            caCertificate: directory.appendingPathComponent("ca.crt"),
            serverCertificate: directory.appendingPathComponent("server.crt"), serverKey: directory.appendingPathComponent("server.key"),
            clientCertificate: directory.appendingPathComponent("client.crt"), clientKey: directory.appendingPathComponent("client.key"))
        for (text, url) in [
            (try authority.certificatePEM, files.caCertificate), (server.certificatePEM, files.serverCertificate),
            (server.privateKeyPEM, files.serverKey), (client.certificatePEM, files.clientCertificate), (client.privateKeyPEM, files.clientKey),
        ] {
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return files
    }
}
