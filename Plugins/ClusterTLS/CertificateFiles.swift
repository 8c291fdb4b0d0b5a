import Foundation
import JacoKernel
import SwiftASN1
import Synchronization
import X509

/// Reading certificates from PEM files: the first certificate's subject and validity.
public enum CertificateFiles {
    /// The first certificate in `path` as a summary with `role`; nil when it cannot be read.
    public static func summary(role: String, path: String) -> CertificateSummary? {
        // Parsed once per version of the file (status calls are frequent; renewals replace it).
        let stamp = FileVersion(path: path)
        if let stamp, let cached = parsed.withLock({ $0[path] }), cached.stamp == stamp {
            var summary = cached.summary
            summary.role = role
            return summary
        }
        guard let certificate = try? first(in: path) else { return nil }
        let summary = CertificateSummary(
            role: role, subject: certificate.subject.description, notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter, path: path)
        if let stamp { parsed.withLock { $0[path] = (stamp, summary) } }
        return summary
    }

    /// Summaries by path, with the version of the file they were read from.
    private static let parsed = Mutex<[String: (stamp: FileVersion, summary: CertificateSummary)]>([:])

    /// The first certificate in the PEM file at `path`.
    static func first(in path: String) throws -> Certificate {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let document = try PEMDocument.parseMultiple(pemString: text).first else {
            throw JacoError(.configInvalid, "'\(path)' holds no PEM certificate")
        }
        return try Certificate(pemDocument: document)
    }

    /// The subject alternative names of `certificate`, as text (DNS names and IP addresses).
    static func alternativeNames(of certificate: Certificate) -> [String] {
        guard let names = try? certificate.extensions.subjectAlternativeNames else { return [] }
        return names.compactMap { name in
            switch name {
            case .dnsName(let dns): return dns
            case .ipAddress(let octets): return IPAddressText(Array(octets.bytes))
            default: return nil
            }
        }
    }
}

/// An IPv4 or IPv6 address's bytes as text, nil for any other length.
func IPAddressText(_ bytes: [UInt8]) -> String? {
    var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
    let family: Int32
    switch bytes.count {
    case 4: family = AF_INET
    case 16: family = AF_INET6
    default: return nil
    }
    let written = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
    guard written != nil else { return nil }
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
