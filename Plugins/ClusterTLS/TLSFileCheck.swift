import Foundation
import JacoKernel
import SwiftASN1
import X509

/// Checks TLS files before a daemon serves with them, so a bad file is named at start-up, not
/// at the first handshake: each certificate file parses as PEM, the key parses, and the key
/// belongs to the first certificate of the chain.
public enum TLSFileCheck {
    /// Throws `config_invalid` naming the file and what is wrong with it; `origin` says where
    /// the path came from (e.g. `[tls] cert in Configs/x.toml`).
    public static func check(_ files: TLSFiles, origin: String) throws(JacoError) {
        _ = try certificates(at: files.caCertificate, origin: origin)
        let chain = try certificates(at: files.certificateChain, origin: origin)
        let keyText = try text(at: files.privateKey, origin: origin)
        let key: Certificate.PrivateKey
        do { key = try Certificate.PrivateKey(pemEncoded: keyText) } catch {
            throw JacoError(.configInvalid, "'\(files.privateKey.path)' (\(origin)) is not a PEM private key: \(error)")
        }
        guard key.publicKey == chain[0].publicKey else {
            throw JacoError(.configInvalid, "the key '\(files.privateKey.path)' does not belong to the certificate '\(files.certificateChain.path)' (\(origin)); give the key the certificate was issued for")
        }
    }

    private static func certificates(at url: URL, origin: String) throws(JacoError) -> [Certificate] {
        let pem = try text(at: url, origin: origin)
        let certificates: [Certificate]
        do { certificates = try PEMDocument.parseMultiple(pemString: pem).map { try Certificate(pemDocument: $0) } } catch {
            throw JacoError(.configInvalid, "'\(url.path)' (\(origin)) is not a PEM certificate: \(error)")
        }
        guard !certificates.isEmpty else {
            throw JacoError(.configInvalid, "'\(url.path)' (\(origin)) holds no certificate")
        }
        return certificates
    }

    private static func text(at url: URL, origin: String) throws(JacoError) -> String {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw JacoError(.configInvalid, "cannot read '\(url.path)' (\(origin)): \(FileManager.default.fileExists(atPath: url.path) ? "permission denied" : "no such file")")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
