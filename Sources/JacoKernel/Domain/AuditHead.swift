/// The newest audit event's position, kept under `KeySpace.auditHead`.
package struct AuditHead {
    var sequence: UInt64
    var hash: Digest256
}
