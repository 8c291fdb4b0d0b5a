import Foundation

/// The fields of a token that the verification cache keeps. A cache load decodes them straight
/// from the stored record (``init(decoding:key:)``), skipping the description, namespace and
/// service identities and packing the accessor ID, so a million-token start makes far fewer
/// strings than decoding whole ``Token``s.
package struct CachedToken: Sendable, Equatable {
    var accessor: AccessorID
    var identity: String?
    var secretDigest: Digest256
    var policyIDs: [String]
    var roleIDs: [String]
    var allowsPrivileged: Bool
    var issuedAt: Date
    var expirationTime: Date?
    var revokedAt: Date?
    var rotation: Rotation?

    /// The cached fields of `token`.
    package init(_ token: Token) {
        accessor = AccessorID(token.accessorID)
        identity = token.identity
        secretDigest = token.secretDigest
        policyIDs = token.policyIDs
        roleIDs = token.roleIDs
        allowsPrivileged = token.allowsPrivileged
        issuedAt = token.issuedAt
        expirationTime = token.expirationTime
        revokedAt = token.revokedAt
        rotation = token.rotation
    }

    /// Decodes the cached fields of the token record stored at `key`; fails where
    /// `Token(decoding:key:)` fails (the record's layout is read field by field the same way).
    package init(decoding data: Data, key: String) throws(JacoError) {
        var policies = StringListMemo(), roles = StringListMemo()
        try self.init(decoding: data, key: key, policies: &policies, roles: &roles)
    }

    /// Decodes like ``init(decoding:key:)``, reusing the policy and role lists of the record
    /// decoded before with the same memos when they are the same.
    init(decoding data: Data, key: String, policies: inout StringListMemo, roles: inout StringListMemo) throws(JacoError) {
        var r = try RecordReader(data, key: key)
        accessor = try r.accessorID()
        identity = try r.optionalString()
        secretDigest = try r.digest()
        try r.skipString()  // description
        policyIDs = try r.strings(reusing: &policies)
        roleIDs = try r.strings(reusing: &roles)
        allowsPrivileged = try r.bool()
        _ = try r.bool()  // local
        try r.skipString()  // namespace
        issuedAt = try r.date()
        expirationTime = try r.optionalDate()
        revokedAt = try r.optionalDate()
        if r.version >= 2 {
            try r.skipServiceIdentities()
            try r.skipString()  // auth method
        }
        rotation = nil
        if r.version >= 3, try r.bool() {
            rotation = Rotation(previousDigest: try r.digest(), rotatedAt: try r.date(), graceEndsAt: try r.date())
        }
    }
}
