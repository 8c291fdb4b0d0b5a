import Foundation

extension VerificationCache {
    /// One cached secret: the principal it verifies as and what a verify must check. The tables
    /// share it (one object per secret), and the entry of a token's current secret is the
    /// token's use record; a previous secret's uses are recorded on the current one. Compact on
    /// purpose — a million tokens are a million of these: 88 bytes, glibc's 96-byte size class.
    /// Not final only for ``PreviousSecretEntry``; its members are final, so nothing on the
    /// verify path is dispatched.
    class Entry: UseRecord, @unchecked Sendable {  // `principal` only under the cache's lock
        /// Who the secret verifies as; replaced in place when policies or roles change. Read and
        /// written only under the cache's lock, so the run-time exclusivity check (a call on
        /// every verify) is left out.
        @exclusivity(unchecked) final var principal: Principal
        final let digest: Digest256
        // Times as seconds since 2001, NaN for none (a `Date?` takes 16 bytes, this 8).
        private final let revoked: Double
        private final let expires: Double
        final let issuedAt: Date

        init(principal: Principal, digest: Digest256, issuedAt: Date, revokedAt: Date?, expiresAt: Date?) {
            self.principal = principal
            self.digest = digest
            self.issuedAt = issuedAt
            revoked = revokedAt?.timeIntervalSinceReferenceDate ?? .nan
            expires = expiresAt?.timeIntervalSinceReferenceDate ?? .nan
        }

        /// Whether a verify must look at the clock or a revocation (otherwise it always passes;
        /// a previous secret always has an end, so it is always checked). Computed: a stored
        /// flag would push the entry into the allocator's next size class.
        @inline(__always) final var needsCheck: Bool { !(revoked.isNaN && expires.isNaN) }

        final var revokedAt: Date? { revoked.isNaN ? nil : Date(timeIntervalSinceReferenceDate: revoked) }
        final var expiresAt: Date? { expires.isNaN ? nil : Date(timeIntervalSinceReferenceDate: expires) }
        /// Set for a rotated token's previous secret: when that rotation happened.
        var rotatedAt: Date? { nil }
    }

    /// The entry of a rotated token's previous secret, while its grace lasts: it also knows when
    /// the rotation happened (for the error after the grace). Rare, so the rotation time costs
    /// the common entry nothing.
    final class PreviousSecretEntry: Entry, @unchecked Sendable {
        private let rotated: Date

        init(principal: Principal, digest: Digest256, issuedAt: Date, revokedAt: Date?, graceEndsAt: Date, rotatedAt: Date) {
            rotated = rotatedAt
            super.init(principal: principal, digest: digest, issuedAt: issuedAt, revokedAt: revokedAt, expiresAt: graceEndsAt)
        }

        override var rotatedAt: Date? { rotated }
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
