/// A Consul service identity: a templated grant for one service, optionally limited to some
/// datacenters. Jaco stores and returns it; it grants no Jaco right.
public struct ServiceIdentity: Codable, Sendable, Equatable, Hashable {
    /// The service's name.
    public var serviceName: String
    /// Datacenters it is valid in (empty: all).
    public var datacenters: [String]

    /// Creates a service identity.
    public init(serviceName: String, datacenters: [String] = []) {
        self.serviceName = serviceName
        self.datacenters = datacenters
    }

    /// The longest service name accepted.
    public static let maxNameLength = 256

    /// Checks Consul's rules: 1 to 256 lowercase letters, digits, `-` or `_`, starting and
    /// ending with a letter or digit.
    public static func validate(_ identity: ServiceIdentity, local: Bool) throws(JacoError) {
        let name = identity.serviceName
        if name.isEmpty {
            throw JacoError(.validationFailed, "Service identity is missing the service name field on this token")
        }
        if local && !identity.datacenters.isEmpty {
            throw JacoError(.validationFailed, "Service identity \"\(name)\" cannot specify a list of datacenters on a local token")
        }
        let scalars = Array(name.unicodeScalars)
        func alphanumeric(_ c: Unicode.Scalar) -> Bool { ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        let valid = scalars.count <= maxNameLength && alphanumeric(scalars.first!) && alphanumeric(scalars.last!)
            && scalars.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" }
        if !valid {
            throw JacoError(.validationFailed, "Service identity \"\(name)\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' are allowed, starting and ending with a letter or digit, at most \(maxNameLength) characters")
        }
    }
}
