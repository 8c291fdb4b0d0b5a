import ClusterTLS
import Foundation
import JacoKernel

/// The daemon's TLS material: the files named in `[tls]`, or material generated under
/// `<data-dir>/tls` on first start.
public enum TLSSetup {
    /// Keys of `[tls]`: `ca_cert`, `cert`, `key` (all three, or none to generate).
    public static let keys = ["ca_cert", "cert", "key"]

    /// The TLS files to serve with, and whether they were generated just now.
    public static func resolve(_ config: JacoConfig, dataDirectory: URL) throws -> (files: TLSFiles, generated: Bool) {
        let section = config.section("tls")
        try section.rejectUnknownKeys(allowed: keys)
        let named = try keys.map { try section.optionalString($0) }
        if named.allSatisfy({ $0 != nil }) {
            let urls = try keys.map { try section.path($0, default: "", relativeTo: dataDirectory) }
            for url in urls where !FileManager.default.isReadableFile(atPath: url.path) {
                throw section.error("cannot read '\(url.path)'")
            }
            return (TLSFiles(caCertificate: urls[0], certificateChain: urls[1], privateKey: urls[2]), false)
        }
        guard named.allSatisfy({ $0 == nil }) else {
            throw section.error("give all of ca_cert, cert and key, or none of them to have material generated under the data directory")
        }
        return try TLSMaterial.ensure(in: dataDirectory.appendingPathComponent("tls"))
    }

    /// Like ``resolve(_:dataDirectory:)``, for a daemon whose store other daemons share: unless
    /// `[tls]` names files, every daemon uses the cluster CA kept in the store (the first one
    /// to start publishes its own) and signs its own server certificate with it, so one
    /// `ca.crt` pins every daemon.
    public static func resolveShared(_ config: JacoConfig, dataDirectory: URL, kernel: Kernel) async throws -> (files: TLSFiles, generated: Bool) {
        let section = config.section("tls")
        if try keys.contains(where: { try section.optionalString($0) != nil }) {
            return try resolve(config, dataDirectory: dataDirectory)
        }
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
        return try TLSMaterial.ensure(in: directory, authority: .init(certificate: shared.certificate, privateKey: shared.privateKey))
    }
}
