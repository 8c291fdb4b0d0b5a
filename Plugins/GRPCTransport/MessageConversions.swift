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
