import Foundation
import JacoKernel

extension Jaco_V1_TokenInfo {
    init(_ token: TokenSummary) {
        self.init()
        accessorID = token.accessorID
        identity = token.identity ?? ""
        description_p = token.description
        allowsPrivileged = token.allowsPrivileged
        issuedAtMs = token.issuedAt.milliseconds
        revokedAtMs = token.revokedAt?.milliseconds ?? 0
        expiresAtMs = token.expirationTime?.milliseconds ?? 0
        lastUsedMs = token.lastUsed?.milliseconds ?? 0
        rotatedAtMs = token.rotatedAt?.milliseconds ?? 0
        graceEndsAtMs = token.graceEndsAt?.milliseconds ?? 0
        superseded = token.superseded
        displayName = token.identity ?? (token.accessorID == BuiltIn.anonymousTokenID ? "anonymous" : token.description.isEmpty ? token.accessorID : token.description)
    }
}

extension Jaco_V1_LeakedSecretOutcome {
    init(_ outcome: LeakedSecretOutcome) {
        self.init()
        switch outcome {
        case .revoked(let identity, let accessorID):
            (result, self.identity, self.accessorID) = ("revoked", identity ?? "", accessorID)
        case .previousSecretStopped(let identity, let accessorID):
            (result, self.identity, self.accessorID) = ("previous_secret_stopped", identity ?? "", accessorID)
        case .alreadyRevoked(let identity, let accessorID):
            (result, self.identity, self.accessorID) = ("already_revoked", identity ?? "", accessorID)
        case .unknown:
            result = "unknown"
        case .malformed(let problem):
            (result, self.problem) = ("malformed", problem)
        }
    }
}

extension Jaco_V1_AuditEvent {
    init(_ event: AuditEvent) {
        self.init()
        sequence = event.sequence
        timeMs = event.time.milliseconds
        identity = event.identity
        type = event.type
        payload = event.payload
        previousHash = event.previousHash.hex
        hash = event.hash.hex
    }
}
