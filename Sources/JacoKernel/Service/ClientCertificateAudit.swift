import Foundation

extension TokenService {
    /// The longest validity a client certificate may be issued for, in days (as browsers cap
    /// server certificates).
    public static let maxClientCertificateDays = 825

    /// Checks a client certificate request's name and validity before anything is signed.
    public static func validateClientCertificate(name: String, days: Int) throws(JacoError) {
        do { try validate(identity: name) } catch {
            throw JacoError(.validationFailed, error.message.replacingOccurrences(of: "identity '", with: "certificate name '"))
        }
        guard (1...maxClientCertificateDays).contains(days) else {
            throw JacoError(.validationFailed, "a client certificate is valid for 1 to \(maxClientCertificateDays) days, not \(days)")
        }
    }

    /// Authorizes and records that the cluster CA signs a client certificate: `sign` runs only
    /// when `caller` holds acl:write, and the audit event `client_certificate_issue` (name,
    /// serial, expiry; never a key) commits before the certificate is returned.
    public func issueClientCertificate(
        name: String, days: Int, by caller: Principal, sign: @Sendable () throws -> IssuedClientCertificate
    ) async throws -> IssuedClientCertificate {
        try caller.require(.aclWrite)
        try Self.validateClientCertificate(name: name, days: days)
        let issued = try sign()
        return try await pipeline.run { _ in
            PlannedWrite(
                transaction: Transaction(conditions: [], writes: []),
                audit: [AuditRecord(identity: caller.auditName, type: AuditEventType.clientCertificateIssue, payload: [
                    "name": name, "serial": issued.serial, "not_after": issued.notAfter.rfc3339,
                ])],
                result: issued)
        }
    }
}
