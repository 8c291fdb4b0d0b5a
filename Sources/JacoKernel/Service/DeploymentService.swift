import Foundation

/// A stored revision and what admission found in it.
public struct AppliedRevision: Sendable {
    /// The deployment's new revision number, from 1.
    public var revision: UInt64
    /// The manifest's services and the gated ones among them.
    public var review: AdmissionReview
}

/// Validates and applies deployment manifests through the admission chain, keeping every
/// applied revision.
public final class DeploymentService: Sendable {
    let storage: any Storage
    let pipeline: WritePipeline
    let admission: AdmissionChain

    init(storage: any Storage, pipeline: WritePipeline, admission: AdmissionChain) {
        self.storage = storage
        self.pipeline = pipeline
        self.admission = admission
    }

    /// The schema half alone: no token needed.
    public func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview {
        try admission.validate(manifest)
    }

    /// Admits the manifest for `caller` and stores it as the deployment's next revision, with
    /// one `apply` audit event and one `privileged_workload_admitted` event per gated service.
    /// Nothing is stored when admission fails.
    public func apply(deployment: String, manifest: [UInt8], by caller: Principal) async throws -> AppliedRevision {
        try caller.require(.aclWrite)
        try Self.validate(deployment: deployment)
        let review = try admission.admit(manifest, for: caller)
        return try await pipeline.run { snapshot in
            let head = try await snapshot.get(KeySpace.deployment(deployment))
            let revision = (head.map { Self.decodeRevision($0.bytes) } ?? 0) + 1
            var audit = [AuditRecord(identity: caller.auditName, type: AuditEventType.apply, payload: [
                "deployment": deployment, "revision": String(revision), "services": review.services.joined(separator: ","),
            ])]
            for service in review.gatedServices {
                audit.append(AuditRecord(identity: caller.auditName, type: AuditEventType.privilegedWorkloadAdmitted, payload: [
                    "deployment": deployment, "revision": String(revision), "service": service,
                ]))
            }
            return PlannedWrite(
                transaction: Transaction(
                    conditions: [head.map { .modifiedAt(KeySpace.deployment(deployment), $0.modifyIndex) } ?? .absent(KeySpace.deployment(deployment))],
                    writes: [
                        .put(KeySpace.deployment(deployment), Data(String(revision).utf8)),
                        .put(KeySpace.revision(deployment, revision), Data(manifest)),
                    ]),
                audit: audit,
                result: AppliedRevision(revision: revision, review: review))
        }
    }

    /// The revisions stored for `deployment`, oldest first.
    public func revisions(of deployment: String) async throws -> [UInt64] {
        try await storage.read { snapshot in
            try await snapshot.scan(prefix: KeySpace.revisionPrefix + deployment + "/").compactMap { UInt64($0.key.split(separator: "/").last ?? "", radix: 16) }
        }
    }

    /// Deployment names: 1 to 128 lowercase letters, digits, `-`, `_`, `.`, starting with a letter or digit.
    public static func validate(deployment: String) throws(JacoError) {
        let allowed = deployment.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
        guard !deployment.isEmpty, deployment.count <= 128, allowed, let first = deployment.unicodeScalars.first, first != "-", first != "_", first != "." else {
            throw JacoError(.validationFailed, "deployment name '\(deployment)' is not valid: use 1 to 128 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit")
        }
    }

    private static func decodeRevision(_ bytes: Data) -> UInt64 {
        UInt64(String(decoding: bytes, as: UTF8.self)) ?? 0
    }
}
