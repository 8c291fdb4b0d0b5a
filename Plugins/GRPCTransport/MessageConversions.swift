import Foundation
import JacoKernel

extension Date {
    /// Milliseconds since 1970, as the wire carries times.
    var milliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// A date from milliseconds since 1970.
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

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
