import Crypto
import Foundation
import SwiftASN1
import X509

/// A certificate authority (ECDSA P-256) that signs server and client certificates.
public struct CertificateAuthority: Sendable {
    /// What a signed certificate may be used for (its extended key usages).
    public enum Usage: Sendable {
        /// A TLS server.
        case serverAuth
        /// A TLS client presenting a certificate (mutual TLS).
        case clientAuth
    }

    let certificate: Certificate
    let key: P256.Signing.PrivateKey

    /// The CA certificate, PEM.
    public var certificatePEM: String { get throws { try certificate.serializeAsPEM().pemString } }
    /// The CA's private key, PEM.
    public var privateKeyPEM: String { key.pemRepresentation }

    /// A CA from its PEM text.
    public init(pem: TLSMaterial.AuthorityPEM) throws {
        certificate = try Certificate(pemEncoded: pem.certificate)
        key = try P256.Signing.PrivateKey(pemRepresentation: pem.privateKey)
    }

    init(certificate: Certificate, key: P256.Signing.PrivateKey) {
        self.certificate = certificate
        self.key = key
    }

    /// A new self-signed CA named `commonName`, valid for `years`.
    public static func create(commonName: String, years: Int = 10) throws -> CertificateAuthority {
        let key = P256.Signing.PrivateKey()
        let name = try DistinguishedName {
            OrganizationName("Jaco")
            CommonName(commonName)
        }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(Double(years) * 365 * 86400),
            issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: .init(key.publicKey))
            },
            issuerPrivateKey: .init(key))
        return CertificateAuthority(certificate: certificate, key: key)
    }

    /// A certificate for `commonName` with SANs `names` (DNS names and IP addresses), valid for
    /// `years` (or exactly `validity`) for `usages`, signed by this CA. Returns it and its new
    /// private key, PEM.
    public func issueCertificate(
        commonName: String, names: [String], usages: [Usage], years: Int = 2, validity: ClosedRange<Date>? = nil
    ) throws -> (certificatePEM: String, privateKeyPEM: String) {
        let key = P256.Signing.PrivateKey()
        let certificate = try sign(publicKey: .init(key.publicKey), commonName: commonName, names: names, usages: usages, years: years, validity: validity)
        return (try certificate.serializeAsPEM().pemString, key.pemRepresentation)
    }

    /// A certificate over `publicKey` for `commonName`, signed by this CA.
    func sign(
        publicKey: Certificate.PublicKey, commonName: String, names: [String], usages: [Usage], years: Int, validity: ClosedRange<Date>?
    ) throws -> Certificate {
        let now = Date()
        var alternativeNames: [GeneralName] = []
        for name in names {
            if let address = IPAddressBytes(name) {
                alternativeNames.append(.ipAddress(ASN1OctetString(contentBytes: address[...])))
            } else {
                alternativeNames.append(.dnsName(name))
            }
        }
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: validity?.lowerBound ?? now.addingTimeInterval(-3600),
            notValidAfter: validity?.upperBound ?? now.addingTimeInterval(Double(years) * 365 * 86400),
            issuer: self.certificate.subject,
            subject: try DistinguishedName {
                OrganizationName("Jaco")
                CommonName(commonName)
            },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage(usages.map { $0 == .serverAuth ? .serverAuth : .clientAuth })
                if !alternativeNames.isEmpty { SubjectAlternativeNames(alternativeNames) }
            },
            issuerPrivateKey: .init(self.key))
    }
}
