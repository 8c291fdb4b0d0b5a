/// A manifest submitted for admission.
public struct ManifestSubmission: Sendable {
    /// Deployment name.
    public var deployment: String
    /// The manifest's raw bytes.
    public var manifest: [UInt8]

    /// Creates a submission.
    public init(deployment: String, manifest: [UInt8]) {
        self.deployment = deployment
        self.manifest = manifest
    }
}

/// The admission seam: decides whether a principal may apply a manifest. Policies compose in a
/// chain; the first rejection wins, and it throws `validation_failed` or `permission_denied`.
public protocol AdmissionPolicy: Sendable {
    /// The policy's config name.
    var name: String { get }
    /// Throws when the submission is not admitted for `principal`.
    func admit(_ submission: ManifestSubmission, for principal: Principal) throws
}
