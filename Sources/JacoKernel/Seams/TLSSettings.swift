import Foundation

/// How every TLS listener and client negotiates, from one place (`[tls]` in the config):
/// the lowest protocol version, the TLS 1.2 suites, and, per listener, whether a client
/// certificate is demanded.
public struct TLSSettings: Sendable, Equatable {
    /// The certificate, key and CA a listener serves with.
    public var files: TLSFiles
    /// The lowest protocol version offered or accepted.
    public var minimumVersion: TLSProtocolVersion
    /// The TLS 1.2 cipher suites (OpenSSL names), in preference order. TLS 1.3's suites are
    /// fixed by the protocol and all AEAD.
    public var cipherSuites: [String]
    /// Mutual TLS: when set, a client must present a certificate this CA (PEM file) signed,
    /// or the handshake fails. Consul calls it `verify_incoming`.
    public var clientCA: URL?

    /// Settings with the defaults: TLS 1.2 at least, AEAD suites only, no client certificates.
    public init(files: TLSFiles, minimumVersion: TLSProtocolVersion = .tls12, cipherSuites: [String] = TLSSettings.aeadCipherSuites, clientCA: URL? = nil) {
        self.files = files
        self.minimumVersion = minimumVersion
        self.cipherSuites = cipherSuites
        self.clientCA = clientCA
    }

    /// The TLS 1.2 suites offered by default: AEAD with forward secrecy (AES-GCM and
    /// ChaCha20-Poly1305 over ECDHE), as in Mozilla's "intermediate" profile. No CBC, no SHA-1
    /// MACs, no static RSA key exchange.
    public static let aeadCipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ]
}

/// A TLS protocol version that Jaco may be configured to start at. Older versions are not
/// offered at all.
public enum TLSProtocolVersion: String, Sendable, CaseIterable {
    /// TLS 1.2 (the default).
    case tls12 = "1.2"
    /// TLS 1.3 only.
    case tls13 = "1.3"

    /// Parses `"1.2"`, `"1.3"` or Consul's spelling (`"TLSv1_2"`, `"TLSv1_3"`).
    public init?(configValue: String) {
        switch configValue {
        case "1.2", "TLSv1_2", "tls12": self = .tls12
        case "1.3", "TLSv1_3", "tls13": self = .tls13
        default: return nil
        }
    }
}

extension ConfigSection {
    /// The keys a TLS listener entry accepts for mutual TLS: `verify_incoming` (default false)
    /// and `client_ca` (a PEM file; default the cluster CA).
    public static let mutualTLSKeys = ["verify_incoming", "client_ca"]

    /// The TLS settings a listener entry serves with: the daemon's `base`, plus a demanded
    /// client certificate when the entry says `verify_incoming = true`. `serves` is false for
    /// an entry without TLS, where either key is an error.
    public func listenerTLS(_ base: TLSSettings?, serves: Bool, relativeTo directory: URL) throws(JacoError) -> TLSSettings? {
        let verify = try bool("verify_incoming", default: false)
        let clientCA = try optionalString("client_ca") == nil ? nil : try path("client_ca", default: "", relativeTo: directory)
        guard serves, var settings = base else {
            if verify || clientCA != nil { throw error("'verify_incoming' and 'client_ca' need a TLS listener; this entry serves without TLS") }
            return nil
        }
        if clientCA != nil, !verify { throw error("'client_ca' is set but 'verify_incoming' is not; set verify_incoming = true to demand client certificates") }
        if verify { settings.clientCA = clientCA ?? settings.files.caCertificate }
        return settings
    }
}
