import JacoKernel
import Yams

/// The `privileged` policy: a service that sets `privileged: true` or a non-empty
/// `security_opt:` list is gated. Schema half: it must carry the label
/// `jaco.io/allow-privileged: "true"` (map or list form). Token half: the caller's token must
/// allow privileged workloads.
struct PrivilegedGate: AdmissionPolicy {
    static let label = "jaco.io/allow-privileged"

    var name: String { "privileged" }

    func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview {
        let services = try ComposeManifest.services(in: manifest)
        var gated: [String] = []
        for service in services {
            let reasons = try Self.gatingFields(of: service)
            guard let field = reasons.first else { continue }
            guard try Self.labelAllows(service) else {
                throw JacoError(.validationFailed, "service '\(service.name)': '\(field)' needs the label \(Self.label): \"true\" (labels map or list form)")
            }
            gated.append(service.name)
        }
        return AdmissionReview(services: services.map(\.name), gatedServices: gated)
    }

    func admit(_ review: AdmissionReview, for principal: Principal) throws(JacoError) {
        guard let first = review.gatedServices.first, !principal.allowsPrivileged else { return }
        throw JacoError(.permissionDenied, "service '\(first)' needs privileges, and the token for '\(principal.auditName)' does not allow privileged workloads; ask an operator for a token issued with --allow-privileged")
    }

    /// The gating fields a service sets (`privileged`, `security_opt`), checking their types.
    static func gatingFields(of service: ComposeService) throws(JacoError) -> [String] {
        var fields: [String] = []
        if let privileged = service.field("privileged") {
            guard let value = privileged.bool else {
                throw JacoError(.validationFailed, "service '\(service.name)': 'privileged' must be true or false")
            }
            if value { fields.append("privileged") }
        }
        if let options = service.field("security_opt") {
            guard case .sequence(let list) = options else {
                throw JacoError(.validationFailed, "service '\(service.name)': 'security_opt' must be a list")
            }
            if !list.isEmpty { fields.append("security_opt") }
        }
        return fields
    }

    /// Whether the service's labels set the allow label to the string "true".
    static func labelAllows(_ service: ComposeService) throws(JacoError) -> Bool {
        guard let labels = service.field("labels") else { return false }
        switch labels {
        case .mapping(let map):
            guard let value = map.first(where: { $0.key.string == label })?.value else { return false }
            return value.scalar?.string == "true"
        case .sequence(let list):
            return list.contains { $0.string == "\(label)=true" }
        default:
            throw JacoError(.validationFailed, "service '\(service.name)': 'labels' must be a map or a list of key=value")
        }
    }
}
