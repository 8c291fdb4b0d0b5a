import ClusterTLS
import Foundation
import JacoKernel
import JacoNIOSSL

/// The daemon's TLS material: the files named in `[tls]`, or material generated under
/// `<data-dir>/tls` on first start.
public enum TLSSetup {
    /// Keys of `[tls]` that name files: `ca_cert`, `cert`, `key` (all three, or none to generate).
    public static let keys = ["ca_cert", "cert", "key"]
    /// Keys of `[tls]` that set how every listener negotiates: `tls_min_version` (`"1.2"`, the
    /// default, or `"1.3"`) and `tls_cipher_suites` (TLS 1.2 suites, OpenSSL names; default AEAD only).
    public static let negotiationKeys = ["tls_min_version", "tls_cipher_suites"]

    /// The settings every TLS listener serves with: `files` and the `[tls]` negotiation keys.
    public static func settings(_ config: JacoConfig, files: TLSFiles) throws -> TLSSettings {
        let (minimumVersion, cipherSuites) = try negotiation(config)
        return TLSSettings(files: files, minimumVersion: minimumVersion, cipherSuites: cipherSuites)
    }

    /// The `[tls]` version floor and suites, validated (a daemon checks them before it opens
    /// anything).
    public static func negotiation(_ config: JacoConfig) throws -> (minimumVersion: TLSProtocolVersion, cipherSuites: [String]) {
        let section = config.section("tls")
        try section.rejectUnknownKeys(allowed: keys + negotiationKeys)
        var settings = (minimumVersion: TLSProtocolVersion.tls12, cipherSuites: TLSSettings.aeadCipherSuites)
        if let text = try section.optionalString("tls_min_version") {
            guard let version = TLSProtocolVersion(configValue: text) else {
                throw section.error("'tls_min_version' is '\(text)' (valid: \"1.2\", \"1.3\"; TLS 1.0 and 1.1 are not offered)")
            }
            settings.minimumVersion = version
        }
        if let suites = try section.optionalStringList("tls_cipher_suites") {
            do { settings.cipherSuites = try NIOTLSConfiguration.checkCipherSuites(suites) } catch { throw section.error("'tls_cipher_suites': \(error.message)") }
        }
        return settings
    }

    /// The TLS files to serve with, and whether they were generated just now.
    public static func resolve(_ config: JacoConfig, dataDirectory: URL) throws -> (files: TLSFiles, generated: Bool) {
        let section = config.section("tls")
        try section.rejectUnknownKeys(allowed: keys + negotiationKeys)
        let named = try keys.map { try section.optionalString($0) }
        if named.allSatisfy({ $0 != nil }) {
            let urls = try keys.map { try section.path($0, default: "", relativeTo: dataDirectory) }
            let files = TLSFiles(caCertificate: urls[0], certificateChain: urls[1], privateKey: urls[2])
            try TLSFileCheck.check(files, origin: "[tls] in \(config.source)")
            return (files, false)
        }
        guard named.allSatisfy({ $0 == nil }) else {
            throw section.error("give all of ca_cert, cert and key, or none of them to have material generated under the data directory")
        }
        return try checked(TLSMaterial.ensure(in: dataDirectory.appendingPathComponent("tls")))
    }

    /// Whether `[tls]` names files (then nothing is generated, and they can be checked before
    /// the store opens).
    public static func namesFiles(_ config: JacoConfig) throws -> Bool {
        let section = config.section("tls")
        return try keys.contains { try section.optionalString($0) != nil }
    }

    /// Material reused from the data directory is checked like named files: a file damaged
    /// since the last start is named now, not at the first handshake.
    private static func checked(_ material: (files: TLSFiles, generated: Bool)) throws -> (files: TLSFiles, generated: Bool) {
        if !material.generated {
            try TLSFileCheck.check(material.files, origin: "kept under the data directory; remove the tls directory to have new material made")
        }
        return material
    }

    /// Like ``resolve(_:dataDirectory:)``, for a daemon whose store other daemons share: unless
    /// `[tls]` names files, every daemon uses the cluster CA kept in the store (the first one
    /// to start publishes its own) and signs its own server certificate with it, so one
    /// `ca.crt` pins every daemon.
    public static func resolveShared(_ config: JacoConfig, dataDirectory: URL, kernel: Kernel) async throws -> (files: TLSFiles, generated: Bool) {
        if try namesFiles(config) { return try resolve(config, dataDirectory: dataDirectory) }
        let directory = dataDirectory.appendingPathComponent("tls")
        let shared: (certificate: String, privateKey: String)
        if let existing = try await kernel.sharedClusterCA() {
            shared = existing
        } else {
            // No CA yet: publish ours (made now if this data directory has none).
            if TLSMaterial.localAuthority(in: directory) == nil { _ = try TLSMaterial.ensure(in: directory) }
            guard let local = TLSMaterial.localAuthority(in: directory) else {
                throw JacoError(.configInvalid, "cannot read the CA under '\(directory.path)' to share it")
            }
            shared = try await kernel.publishClusterCA(certificate: local.certificate, privateKey: local.privateKey)
        }
        return try checked(TLSMaterial.ensure(in: directory, authority: .init(certificate: shared.certificate, privateKey: shared.privateKey)))
    }

    /// The daemon's certificates for status and expiry checks: the served material, every
    /// listener's `client_ca`, and the etcd store's client certificate. The cluster CA's key is
    /// offered for signing only when the daemon made its own material (`[tls]` names no files).
    public static func certificates(_ config: JacoConfig, files: TLSFiles, dataDirectory: URL) throws -> DaemonCertificates {
        var others: [(role: String, path: String)] = []
        for section in config.listenerSections {
            if try section.bool("verify_incoming", default: false), try section.optionalString("client_ca") != nil {
                others.append(("client-ca", try section.path("client_ca", default: "", relativeTo: dataDirectory).path))
            }
        }
        let storage = config.section("storage")
        if try storage.string("engine", default: "") == "etcd", try storage.optionalString("cert") != nil {
            others.append(("etcd-client", try storage.path("cert", default: "", relativeTo: dataDirectory).path))
        }
        let authority = try namesFiles(config) ? nil : dataDirectory.appendingPathComponent("tls")
        return DaemonCertificates(files: files, authorityDirectory: authority, others: others)
    }
}
