import Foundation
import JacoKernel
import NIOCore
import NIOSSL

/// NIOSSL configurations built from the kernel's ``TLSSettings``: the one place where every
/// TLS listener (gRPC, Consul HTTPS, metrics) and every client (`jaco`, the etcd store) gets its
/// protocol floor, cipher suites and certificate checks.
public enum NIOTLSConfiguration {
    /// A server configuration: the shared, reloadable certificate for `settings.files`, the
    /// version floor and suites, and a demanded client certificate when `settings.clientCA`
    /// is set. `applicationProtocols` are offered by ALPN (e.g. `["grpc-exp", "h2"]`).
    public static func server(_ settings: TLSSettings, applicationProtocols: [String] = []) throws(JacoError) -> TLSConfiguration {
        let certificate = try ServingCertificate.shared(for: settings.files)
        let (chain, key) = certificate.current
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: key)
        apply(settings.minimumVersion, settings.cipherSuites, to: &configuration)
        configuration.applicationProtocols = applicationProtocols
        // Each handshake takes the pair in service now, so a reload needs no restart.
        configuration.sslContextCallback = { _, promise in promise.succeed(certificate.configurationOverride) }
        if let clientCA = settings.clientCA {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(try certificates(at: clientCA.path, what: "client CA"))
            configuration.sendCANameList = true
        }
        try validate(configuration)
        return configuration
    }

    /// A client configuration that trusts only `caCertificate` (PEM path; the system's roots
    /// when nil), checks the server's name, and presents `clientCertificate` when given.
    public static func client(
        trusting caCertificate: String?, clientCertificate: (certificate: String, key: String)? = nil,
        minimumVersion: TLSProtocolVersion = .tls12, cipherSuites: [String] = TLSSettings.aeadCipherSuites,
        applicationProtocols: [String] = []
    ) throws(JacoError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        apply(minimumVersion, cipherSuites, to: &configuration)
        configuration.applicationProtocols = applicationProtocols
        configuration.certificateVerification = .fullVerification
        if let caCertificate {
            configuration.trustRoots = .certificates(try certificates(at: caCertificate, what: "CA certificate"))
        }
        if let clientCertificate {
            configuration.certificateChain = try certificates(at: clientCertificate.certificate, what: "client certificate").map { .certificate($0) }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: clientCertificate.key, format: .pem))
            } catch {
                throw JacoError(.configInvalid, "cannot read the client key '\(clientCertificate.key)': \(readProblem(clientCertificate.key, error))")
            }
        }
        try validate(configuration)
        return configuration
    }

    /// What a client connection's set-up runs to speak TLS with `configuration` to `host`:
    /// puts a TLS handler first in the channel's pipeline (for gRPC clients in
    /// `.customSecure` mode). The name is sent as SNI and checked unless it is an address.
    public static func clientHandlerInstaller(_ configuration: TLSConfiguration, host: String) throws(JacoError) -> @Sendable (any Channel) -> EventLoopFuture<Void> {
        let context: NIOSSLContext
        do { context = try NIOSSLContext(configuration: configuration) } catch {
            throw JacoError(.configInvalid, "cannot set up TLS to \(host): \(error)")
        }
        let serverName: String? = isAddress(host) ? nil : host
        return { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: serverName), position: .first)
            }
        }
    }

    /// Whether `host` is an IP address literal rather than a name.
    public static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The suites in OpenSSL spelling, each given by its OpenSSL or IANA name; fails naming
    /// the first one the TLS library does not implement.
    public static func checkCipherSuites(_ suites: [String]) throws(JacoError) -> [String] {
        guard !suites.isEmpty else { throw JacoError(.configInvalid, "the cipher suite list is empty; leave it out for the AEAD defaults") }
        return try suites.map { suite throws(JacoError) in
            guard let name = CipherSuiteNames.openSSLName(suite) else {
                throw JacoError(.configInvalid, "unknown TLS 1.2 cipher suite '\(suite)' (OpenSSL or IANA names, e.g. \(TLSSettings.aeadCipherSuites[0]) or TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)")
            }
            return name
        }
    }

    private static func apply(_ minimumVersion: TLSProtocolVersion, _ suites: [String], to configuration: inout TLSConfiguration) {
        configuration.minimumTLSVersion = minimumVersion == .tls13 ? .tlsv13 : .tlsv12
        configuration.cipherSuites = suites.joined(separator: ":")
    }

    private static func validate(_ configuration: TLSConfiguration) throws(JacoError) {
        do { _ = try NIOSSLContext(configuration: configuration) } catch {
            throw JacoError(.configInvalid, "the TLS settings are not usable: \(error)")
        }
    }

    private static func certificates(at path: String, what: String) throws(JacoError) -> [NIOSSLCertificate] {
        let loaded: [NIOSSLCertificate]
        do { loaded = try NIOSSLCertificate.fromPEMFile(path) } catch {
            throw JacoError(.configInvalid, "cannot read the \(what) '\(path)': \(readProblem(path, error))")
        }
        guard !loaded.isEmpty else { throw JacoError(.configInvalid, "the \(what) '\(path)' holds no PEM certificate") }
        return loaded
    }

    private static func readProblem(_ path: String, _ error: any Error) -> String {
        if !FileManager.default.fileExists(atPath: path) { return "no such file" }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        return "not PEM (\(error))"
    }
}
