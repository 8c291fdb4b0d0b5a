import Foundation
import JacoKernel
import NIOCore
import NIOSSL
import Synchronization

/// A listener's certificate chain and key, loaded from their files and reloaded in place:
/// every TLS listener on the same files shares one, and each handshake takes the current
/// pair, so a reload serves new connections with the new certificate while open ones go on.
public final class ServingCertificate: Sendable {
    /// The files it loads.
    public let files: TLSFiles
    private let state: Mutex<Loaded>

    private struct Loaded: @unchecked Sendable {
        var chain: [NIOSSLCertificate]
        var key: NIOSSLPrivateKey
        var stamps: [FileVersion?]
    }

    private init(files: TLSFiles) throws(JacoError) {
        self.files = files
        state = Mutex(try Self.load(files))
    }

    /// The shared instance for `files`, loaded on first use.
    public static func shared(for files: TLSFiles) throws(JacoError) -> ServingCertificate {
        // Made under the lock, so listeners starting together share one instance.
        let outcome: Result<ServingCertificate, JacoError> = registry.withLock { registry in
            if let existing = registry[files.certificateChain.path], existing.files == files { return .success(existing) }
            do throws(JacoError) {
                let made = try ServingCertificate(files: files)
                registry[files.certificateChain.path] = made
                return .success(made)
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    /// Reloads every shared certificate whose files changed since they were read (all of them
    /// when `force`, as on SIGHUP). Returns what was reloaded, and what failed (the old pair
    /// stays in service then).
    public static func reloadAll(force: Bool) -> [(files: TLSFiles, outcome: Result<Bool, JacoError>)] {
        let all = registry.withLock { Array($0.values) }
        return all.map { certificate in
            do throws(JacoError) { return (certificate.files, .success(try certificate.reload(force: force))) } catch { return (certificate.files, .failure(error)) }
        }
    }

    /// Reloads the pair when its files changed (or always, when `force`). Returns whether a new
    /// pair is in service; a file that cannot be read or does not match leaves the old one.
    @discardableResult
    public func reload(force: Bool) throws(JacoError) -> Bool {
        let stamps = state.withLock { $0.stamps }
        if !force, stamps == Self.stamps(files) { return false }
        let loaded = try Self.load(files)
        state.withLock { $0 = loaded }
        return true
    }

    /// The current pair as an override for the handshake being set up.
    var configurationOverride: NIOSSLContextConfigurationOverride {
        state.withLock { loaded in
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = loaded.chain.map { .certificate($0) }
            override.privateKey = .privateKey(loaded.key)
            return override
        }
    }

    /// The current chain and key, for a configuration's initial values.
    var current: (chain: [NIOSSLCertificateSource], key: NIOSSLPrivateKeySource) {
        let override = configurationOverride
        return (override.certificateChain ?? [], override.privateKey!)
    }

    private static let registry = Mutex<[String: ServingCertificate]>([:])

    private static func load(_ files: TLSFiles) throws(JacoError) -> Loaded {
        let stamps = stamps(files)
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain.path)
            let key = try NIOSSLPrivateKey(file: files.privateKey.path, format: .pem)
            guard !chain.isEmpty else { throw JacoError(.configInvalid, "'\(files.certificateChain.path)' holds no certificate") }
            // The TLS library refuses a key that does not belong to the certificate: a pair
            // caught between two renames is not put into service.
            do {
                _ = try NIOSSLContext(configuration: .makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
            } catch {
                throw JacoError(.configInvalid, "the key '\(files.privateKey.path)' does not belong to the certificate '\(files.certificateChain.path)'")
            }
            return Loaded(chain: chain, key: key, stamps: stamps)
        } catch let error as JacoError {
            throw error
        } catch {
            throw JacoError(.configInvalid, "cannot load the TLS certificate '\(files.certificateChain.path)' or key '\(files.privateKey.path)': \(error)")
        }
    }

    /// The versions of the chain and key files (nil for one that cannot be stat'ed).
    private static func stamps(_ files: TLSFiles) -> [FileVersion?] {
        [files.certificateChain, files.privateKey].map { FileVersion(path: $0.path) }
    }
}
