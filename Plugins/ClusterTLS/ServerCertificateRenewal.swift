import Foundation
import JacoKernel
import X509

/// Renews the server certificate that the cluster CA signed, before it expires: when less than
/// a third of its life remains, the CA under the same directory signs a new one for the same
/// names. Operator-supplied certificates (no `ca.key` beside them) are never touched.
public enum ServerCertificateRenewal {
    /// What a renewal check found.
    public enum Outcome: Sendable, Equatable {
        /// More than a third of its life remains.
        case current(notAfter: Date)
        /// A new certificate was written; the old one ended at `previous`.
        case renewed(notAfter: Date, previous: Date)
        /// No CA key here: the files are the operator's to renew.
        case notManaged
    }

    /// Renews `server.crt` and `server.key` under `directory` when due (at `now`). The new key is
    /// renamed into place before the new certificate, so a reader sees either pair or, between
    /// the renames, a mismatch it rejects and reads again.
    public static func renewIfDue(in directory: URL, now: Date = Date()) throws -> Outcome {
        guard let authorityPEM = TLSMaterial.localAuthority(in: directory) else { return .notManaged }
        let certificatePath = directory.appendingPathComponent("server.crt")
        let keyPath = directory.appendingPathComponent("server.key")
        let current = try CertificateFiles.first(in: certificatePath.path)
        let lifetime = current.notValidAfter.timeIntervalSince(current.notValidBefore)
        guard current.notValidAfter.timeIntervalSince(now) < lifetime / 3 else { return .current(notAfter: current.notValidAfter) }
        let authority = try CertificateAuthority(pem: authorityPEM)
        let names = CertificateFiles.alternativeNames(of: current)
        let issued = try authority.issueCertificate(commonName: "jacod", names: names.isEmpty ? TLSMaterial.defaultNames() : names, usages: [.serverAuth])
        try replace(keyPath, with: issued.privateKeyPEM, mode: 0o600)
        try replace(certificatePath, with: issued.certificatePEM, mode: 0o644)
        let renewed = try CertificateFiles.first(in: certificatePath.path)
        return .renewed(notAfter: renewed.notValidAfter, previous: current.notValidAfter)
    }

    /// Writes `text` to a new file beside `url` with `mode`, then renames it over `url`.
    private static func replace(_ url: URL, with text: String, mode: Int) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).new")
        try? FileManager.default.removeItem(at: temporary)
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw JacoError(.configInvalid, "cannot write '\(temporary.path)' to renew the server certificate")
        }
        guard rename(temporary.path, url.path) == 0 else {
            throw JacoError(.configInvalid, "cannot replace '\(url.path)': \(String(cString: strerror(errno)))")
        }
    }
}
