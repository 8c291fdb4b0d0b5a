import Crypto
import Foundation
import JacoKernel
import SwiftASN1
import X509

/// The cluster's TLS material: a CA that clients pin, and a server certificate it signs.
public enum TLSMaterial {
    /// The material under `directory` (`ca.crt`, `ca.key`, `server.crt`, `server.key`), created on
    /// first use: a cluster CA (ECDSA P-256, 10 years) and a server certificate it signs (2 years)
    /// with SANs for localhost, 127.0.0.1, ::1, the host name and `extraNames`. Keys are 0600.
    /// Existing files are reused as they are. Returns the material and whether it was created.
    public static func ensure(in directory: URL, extraNames: [String] = []) throws -> (files: TLSFiles, generated: Bool) {
        let material = files(in: directory)
        let paths = [material.caCertificate, material.certificateChain, material.privateKey]
        let present = paths.filter { FileManager.default.fileExists(atPath: $0.path) }
        if present.count == paths.count { return (material, false) }
        if !present.isEmpty {
            throw JacoError(.configInvalid, "the TLS directory '\(directory.path)' holds only some of ca.crt, server.crt, server.key; remove it to have new material generated, or supply all three")
        }
        try writeMaterial(in: directory, extraNames: extraNames, from: "a new cluster CA") {
            let authority = try CertificateAuthority.create(commonName: "Jaco cluster CA")
            return (authority, AuthorityPEM(certificate: try authority.certificatePEM, privateKey: authority.privateKeyPEM))
        }
        return (material, true)
    }

    /// The paths of the material under `directory`.
    private static func files(in directory: URL) -> TLSFiles {
        TLSFiles(
            caCertificate: directory.appendingPathComponent("ca.crt"),
            certificateChain: directory.appendingPathComponent("server.crt"),
            privateKey: directory.appendingPathComponent("server.key"))
    }

    /// Writes `ca.crt`, `ca.key` and a server certificate the CA signs (keys 0600).
    private static func writeMaterial(in directory: URL, extraNames: [String], from source: String, authority make: () throws -> (CertificateAuthority, AuthorityPEM)) throws {
        let material = files(in: directory)
        do {
            let (authority, pem) = try make()
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            try write(pem.certificate, to: material.caCertificate, mode: 0o644)
            try write(pem.privateKey, to: directory.appendingPathComponent("ca.key"), mode: 0o600)
            let server = try authority.issueCertificate(commonName: "jacod", names: defaultNames() + extraNames, usages: [.serverAuth])
            try write(server.certificatePEM, to: material.certificateChain, mode: 0o644)
            try write(server.privateKeyPEM, to: material.privateKey, mode: 0o600)
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.configInvalid, "cannot create TLS material in '\(directory.path)' from \(source): \(error)")
        }
    }

    /// A CA as PEM text: what daemons sharing one store share.
    public struct AuthorityPEM: Sendable, Equatable {
        /// The CA certificate.
        public var certificate: String
        /// The CA's private key.
        public var privateKey: String

        /// Pairs a certificate and its key.
        public init(certificate: String, privateKey: String) {
            self.certificate = certificate
            self.privateKey = privateKey
        }
    }

    /// The CA under `directory`, if `ca.crt` and `ca.key` are there.
    public static func localAuthority(in directory: URL) -> AuthorityPEM? {
        guard let certificate = try? String(contentsOf: directory.appendingPathComponent("ca.crt"), encoding: .utf8),
            let key = try? String(contentsOf: directory.appendingPathComponent("ca.key"), encoding: .utf8)
        else { return nil }
        return AuthorityPEM(certificate: certificate, privateKey: key)
    }

    /// Material under `directory` signed by `authority` (a cluster CA shared through the store):
    /// the CA files are written from it, and the server certificate is reused when this CA
    /// signed it, else issued anew. Returns the files and whether anything was written.
    public static func ensure(in directory: URL, authority: AuthorityPEM, extraNames: [String] = []) throws -> (files: TLSFiles, generated: Bool) {
        let material = files(in: directory)
        if localAuthority(in: directory) == authority,
            FileManager.default.fileExists(atPath: material.certificateChain.path), FileManager.default.fileExists(atPath: material.privateKey.path)
        {
            return (material, false)
        }
        for name in ["ca.crt", "ca.key", "server.crt", "server.key"] { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
        try writeMaterial(in: directory, extraNames: extraNames, from: "the cluster CA") { (try CertificateAuthority(pem: authority), authority) }
        return (material, true)
    }

    /// localhost, the loopback addresses and this machine's host name.
    static func defaultNames() -> [String] {
        var names = ["localhost", "127.0.0.1", "::1"]
        let host = ProcessInfo.processInfo.hostName
        if !host.isEmpty, !names.contains(host) { names.append(host) }
        return names
    }

    private static func write(_ text: String, to url: URL, mode: Int) throws {
        // Create with the final mode, so a key is never readable by others, even briefly.
        guard FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw JacoError(.configInvalid, "cannot write '\(url.path)'")
        }
    }
}

/// The bytes of an IPv4 or IPv6 address literal, or nil when `text` is not one.
func IPAddressBytes(_ text: String) -> [UInt8]? {
    var v4 = in_addr()
    if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: v4) { Array($0) } }
    var v6 = in6_addr()
    if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: v6) { Array($0) } }
    return nil
}
