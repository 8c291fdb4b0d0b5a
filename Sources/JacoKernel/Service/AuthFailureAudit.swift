import Foundation

extension TokenService {
    /// Appends one `auth_failures` event for `listener`: how many authentications failed and
    /// how many calls were refused over `period`, and from which addresses (never a secret).
    func recordAuthFailures(_ tally: AuthThrottle.Tally, listener: String, period: Duration) async throws {
        try await pipeline.run { _ in
            PlannedWrite(
                transaction: Transaction(conditions: [], writes: []),
                audit: [AuditRecord(identity: "jacod", type: AuditEventType.authFailures, payload: tally.auditPayload(listener: listener, period: period))],
                result: ())
        }
    }
}
