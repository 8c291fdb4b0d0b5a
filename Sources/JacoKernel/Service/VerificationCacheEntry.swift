import Foundation

extension VerificationCache {
    /// One cached secret: the principal it verifies as and what a verify must check. The tables
    /// share it (one object per secret), and the entry of a token's current secret is the
    /// token's use record; a previous secret's uses are recorded on the current one. Compact on
    /// purpose: a million tokens are a million of these.
    final class Entry: UseRecord, @unchecked Sendable {  // `principal` only under the cache's lock
        /// Who the secret verifies as; replaced in place when policies or roles change. Read and
        /// written only under the cache's lock, so the run-time exclusivity check (a call on
        /// every verify) is left out.
        @exclusivity(unchecked) var principal: Principal
        let digest: Digest256
        // Times as seconds since 2001, NaN for none (a `Date?` takes 16 bytes, this 8).
        private let revoked: Double
        private let expires: Double
        private let rotated: Double
        let issuedAt: Date

        init(principal: Principal, digest: Digest256, issuedAt: Date, revokedAt: Date?, expiresAt: Date?, rotatedAt: Date? = nil) {
            self.principal = principal
            self.digest = digest
            self.issuedAt = issuedAt
            revoked = revokedAt?.timeIntervalSinceReferenceDate ?? .nan
            expires = expiresAt?.timeIntervalSinceReferenceDate ?? .nan
            rotated = rotatedAt?.timeIntervalSinceReferenceDate ?? .nan
        }

        /// Whether a verify must look at the clock or a revocation (otherwise it always passes).
        /// Computed: a stored flag would push the entry into the allocator's next size class.
        @inline(__always) var needsCheck: Bool { !(revoked.isNaN && expires.isNaN && rotated.isNaN) }

        var revokedAt: Date? { revoked.isNaN ? nil : Date(timeIntervalSinceReferenceDate: revoked) }
        var expiresAt: Date? { expires.isNaN ? nil : Date(timeIntervalSinceReferenceDate: expires) }
        /// Set for a rotated token's previous secret: when that rotation happened.
        var rotatedAt: Date? { rotated.isNaN ? nil : Date(timeIntervalSinceReferenceDate: rotated) }
    }

    /// Keys entries by accessor ID (``State/byAccessor``).
    enum AccessorKey: ObjectTableKey {
        static func tag(of entry: Entry) -> UInt64 { entry.principal.accessor.tag }
    }

    /// Keys entries by identity (``State/identityHolders``, which holds only entries with one).
    enum IdentityKey: ObjectTableKey {
        static func tag(of entry: Entry) -> UInt64 { entry.principal.identity?.tableTag ?? 0 }
    }
}
