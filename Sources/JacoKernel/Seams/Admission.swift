/// What a policy learned from a manifest's schema check: its services, and the ones whose
/// settings need a privileged token.
public struct AdmissionReview: Sendable, Equatable {
    /// Service names, in manifest order.
    public var services: [String]
    /// Services that need a token with `allows_privileged`, in manifest order.
    public var gatedServices: [String]

    /// Creates a review.
    public init(services: [String], gatedServices: [String]) {
        self.services = services
        self.gatedServices = gatedServices
    }
}

/// The admission seam: decides whether a principal may apply a manifest. A policy has two
/// halves, run in this order across the whole chain: the schema check (no token looked at),
/// then the decision for the caller. Either throws, with `validation_failed` or
/// `permission_denied`, naming the offending service.
public protocol AdmissionPolicy: Sendable {
    /// The policy's config name.
    var name: String { get }
    /// Checks the manifest's shape; throws `validation_failed`.
    func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview
    /// Decides for `principal`, given what `validate` found; throws `permission_denied`.
    func admit(_ review: AdmissionReview, for principal: Principal) throws(JacoError)
}

/// Policies applied in order: every schema check first, then every decision.
public struct AdmissionChain: Sendable {
    /// The policies, in config order.
    public let policies: [any AdmissionPolicy]

    /// Creates a chain.
    public init(_ policies: [any AdmissionPolicy]) {
        self.policies = policies
    }

    /// Every policy's schema check; the merged review.
    public func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview {
        var merged = AdmissionReview(services: [], gatedServices: [])
        for policy in policies {
            let review = try policy.validate(manifest)
            if merged.services.isEmpty { merged.services = review.services }
            merged.gatedServices += review.gatedServices.filter { !merged.gatedServices.contains($0) }
        }
        return merged
    }

    /// Validates, then asks every policy to admit `principal`.
    public func admit(_ manifest: [UInt8], for principal: Principal) throws(JacoError) -> AdmissionReview {
        let review = try validate(manifest)
        for policy in policies { try policy.admit(review, for: principal) }
        return review
    }
}
