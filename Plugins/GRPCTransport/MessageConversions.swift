import Foundation
import JacoKernel
import SwiftProtobuf

extension Jaco_V1_Token {
    /// The wire form of a token: never its secret or digest.
    init(_ token: TokenSummary) {
        self.init()
        accessorID = token.accessorID
        identity = token.identity ?? ""
        description_p = token.description
        allowsPrivileged = token.allowsPrivileged
        issueTime = Google_Protobuf_Timestamp(date: token.issuedAt)
        if let time = token.revokedAt { revokeTime = Google_Protobuf_Timestamp(date: time) }
        if let time = token.expirationTime { expireTime = Google_Protobuf_Timestamp(date: time) }
        if let time = token.lastUsed { lastUseTime = Google_Protobuf_Timestamp(date: time) }
        if let time = token.rotatedAt { rotateTime = Google_Protobuf_Timestamp(date: time) }
        if let time = token.graceEndsAt { graceEndTime = Google_Protobuf_Timestamp(date: time) }
        superseded = token.superseded
        authMethod = token.authMethod ?? ""
        displayName = token.identity ?? (token.accessorID == BuiltIn.anonymousTokenID ? "anonymous" : token.description.isEmpty ? token.accessorID : token.description)
    }

    /// When it was issued.
    public var issuedAt: Date { issueTime.date }
    /// When it was revoked, if it was.
    public var revokedAt: Date? { hasRevokeTime ? revokeTime.date : nil }
    /// When it expires, if it does.
    public var expiresAt: Date? { hasExpireTime ? expireTime.date : nil }
    /// When it last verified, if it did.
    public var lastUsed: Date? { hasLastUseTime ? lastUseTime.date : nil }
    /// When it was last rotated, while the previous secret is in its grace window.
    public var rotatedAt: Date? { hasRotateTime ? rotateTime.date : nil }
    /// When the previous secret of a rotation in its grace window stops, if one is.
    public var graceEndsAt: Date? { hasGraceEndTime ? graceEndTime.date : nil }
}

extension Jaco_V1_LeakedSecretOutcome {
    init(_ outcome: LeakedSecretOutcome) {
        self.init()
        switch outcome {
        case .revoked(let identity, let accessorID):
            (result, self.identity, self.accessorID) = (.revoked, identity ?? "", accessorID)
        case .previousSecretStopped(let identity, let accessorID):
            (result, self.identity, self.accessorID) = (.previousSecretStopped, identity ?? "", accessorID)
        case .alreadyRevoked(let identity, let accessorID):
            (result, self.identity, self.accessorID) = (.alreadyRevoked, identity ?? "", accessorID)
        case .unknown:
            result = .unknown
        case .malformed(let problem):
            (result, self.problem) = (.malformed, problem)
        }
    }
}

extension Jaco_V1_AuditEvent {
    /// When it happened.
    public var date: Date { time.date }

    init(_ event: AuditEvent) {
        self.init()
        sequence = event.sequence
        time = Google_Protobuf_Timestamp(date: event.time)
        identity = event.identity
        type = event.type
        payload = event.payload
        previousHash = event.previousHash.hex
        hash = event.hash.hex
    }
}

extension Jaco_V1_Certificate {
    init(_ summary: CertificateSummary) {
        self.init()
        role = summary.role
        subject = summary.subject
        notBeforeTime = Google_Protobuf_Timestamp(date: summary.notBefore)
        notAfterTime = Google_Protobuf_Timestamp(date: summary.notAfter)
    }

    /// The kernel's form, as `jaco cluster status` shows it.
    public var summary: CertificateSummary {
        CertificateSummary(role: role, subject: subject, notBefore: notBeforeTime.date, notAfter: notAfterTime.date, path: "")
    }
}

extension Jaco_V1_SnapshotHeader {
    /// The wire form of a snapshot header.
    public init(_ header: SnapshotHeader) {
        self.init()
        format = UInt32(header.format)
        engine = header.engine
        storeIndex = header.storeIndex
        if let created = ISO8601DateFormatter().date(from: header.createdAt) { createTime = Google_Protobuf_Timestamp(date: created) }
        hashing = header.hashing
        counts = header.counts.mapValues { UInt64($0) }
        records = UInt64(header.records)
    }

    /// When the snapshot was taken, RFC 3339.
    public var createdAt: String { hasCreateTime ? createTime.date.rfc3339 : "-" }
}

/// A page size from the wire, clamped as every listing clamps it (0: the default); negative is
/// refused.
func pageLimit(_ pageSize: Int32) throws(JacoError) -> Int {
    guard pageSize >= 0 else { throw JacoError(.validationFailed, "page_size must not be negative, not \(pageSize)") }
    return Paging.size(Int(pageSize))
}

extension Jaco_V1_IssueClientCertificateResponse {
    /// When the certificate stops being valid.
    public var notAfter: Date { notAfterTime.date }
}
