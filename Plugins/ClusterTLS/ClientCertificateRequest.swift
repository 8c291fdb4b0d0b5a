import Crypto
import Foundation
import JacoKernel
import SwiftASN1
import X509

/// Client certificates for mutual TLS: the client makes a key and a signing request, the
/// cluster CA signs the request. The private key never leaves the client.
public enum ClientCertificateRequest {
    /// A new P-256 key and a PKCS#10 request for `name` over it, both PEM.
    public static func make(name: String) throws -> (requestPEM: String, privateKeyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let request = try CertificateSigningRequest(
            version: .v1, subject: try DistinguishedName { CommonName(name) }, privateKey: .init(key),
            attributes: CertificateSigningRequest.Attributes(), signatureAlgorithm: .ecdsaWithSHA256)
        return (try request.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// Signs `requestPEM` with `authority`: a certificate for `name` (the request's own subject
    /// is ignored), client authentication only, valid for `days`. Fails `validation_failed`
    /// when the request does not parse or is not signed by its own key.
    public static func sign(_ requestPEM: String, name: String, days: Int, with authority: CertificateAuthority) throws(JacoError) -> IssuedClientCertificate {
        let request: CertificateSigningRequest
        do { request = try CertificateSigningRequest(pemEncoded: requestPEM) } catch {
            throw JacoError(.validationFailed, "the certificate request is not a PEM PKCS#10 request: \(error)")
        }
        guard request.publicKey.isValidSignature(request.signature, for: request) else {
            throw JacoError(.validationFailed, "the certificate request's signature does not match its key")
        }
        let now = Date()
        do {
            let certificate = try authority.sign(
                publicKey: request.publicKey, commonName: name, names: [], usages: [.clientAuth], years: 0,
                validity: now.addingTimeInterval(-300)...now.addingTimeInterval(Double(days) * 86400))
            return IssuedClientCertificate(
                certificatePEM: try certificate.serializeAsPEM().pemString, serial: certificate.serialNumber.description,
                notAfter: certificate.notValidAfter, caCertificatePEM: try authority.certificatePEM)
        } catch {
            throw JacoError(.storageFailure, "cannot sign the client certificate: \(error)")
        }
    }
}

/// The daemon's certificates (``ClusterCertificates``): the TLS files it serves with, the
/// other certificates it uses, and the cluster CA's key when the daemon made its material.
public struct DaemonCertificates: ClusterCertificates {
    /// The files listeners serve with.
    public let files: TLSFiles
    /// Where the CA's key is, when this daemon holds it (material it generated).
    public let authorityDirectory: URL?
    /// Other certificates in use, by role (`client-ca`, `etcd-client`, ...), as file paths.
    public let others: [(role: String, path: String)]

    /// Describes the certificates of a daemon.
    public init(files: TLSFiles, authorityDirectory: URL?, others: [(role: String, path: String)]) {
        self.files = files
        self.authorityDirectory = authorityDirectory
        self.others = others
    }

    public func inventory() -> [CertificateSummary] {
        var seen: Set<String> = []
        let all = [("server", files.certificateChain.path), ("ca", files.caCertificate.path)] + others
        return all.compactMap { role, path in seen.insert(path).inserted ? CertificateFiles.summary(role: role, path: path) : nil }
    }

    public func issueClientCertificate(name: String, requestPEM: String, days: Int) throws(JacoError) -> IssuedClientCertificate {
        guard let directory = authorityDirectory, let pem = TLSMaterial.localAuthority(in: directory) else {
            throw JacoError(.failedPrecondition, "this daemon does not hold the cluster CA's key ([tls] names the operator's own files); sign client certificates with the CA that signed '\(files.certificateChain.path)'")
        }
        let authority: CertificateAuthority
        do { authority = try CertificateAuthority(pem: pem) } catch {
            throw JacoError(.failedPrecondition, "cannot read the cluster CA under '\(directory.path)': \(error)")
        }
        return try ClientCertificateRequest.sign(requestPEM, name: name, days: days, with: authority)
    }
}
