import Foundation

/// A binding rule's `BindName`: text with `${value.<field>}` variables filled from a login's
/// identity (HIL's interpolation, as Consul does it: the variables' values are lowercased), then
/// checked as the name its `BindType` links.
enum BindName {
    /// `template` with each `${…}` replaced by `variables[…]`, lowercased. Throws
    /// `validation_failed` for an unknown variable or an unclosed `${`.
    static func interpolate(_ template: String, variables: [String: String]) throws(JacoError) -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            rest = rest[open.upperBound...]
            guard let close = rest.firstIndex(of: "}") else {
                throw JacoError(.validationFailed, "unclosed '${' in \(template.quotedForError)")
            }
            let name = rest[..<close].trimmingCharacters(in: .whitespaces)
            guard let value = variables[name] else {
                let known = variables.keys.sorted().map { "${\($0)}" }.joined(separator: ", ")
                throw JacoError(.validationFailed, "unknown variable \("${\(name)}".quotedForError) (this auth method's variables: \(known.isEmpty ? "none" : known))")
            }
            out += value.lowercased()
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    /// The variables an identity offers: `value.<field>` for each single-valued field.
    static func variables(of identity: VerifiedIdentity) -> [String: String] {
        Dictionary(uniqueKeysWithValues: identity.values.map { ("value.\($0.key)", $0.value) })
    }

    /// Whether `name` is valid for `type`: a service identity name (Consul's
    /// `^[a-z0-9]([a-z0-9\-_]*[a-z0-9])?$`), a role name (1–256) or a policy name (1–128) of
    /// letters, digits, `-` and `_`.
    static func isValid(_ name: String, for type: BindType) -> Bool {
        let scalars = Array(name.unicodeScalars)
        guard !scalars.isEmpty, scalars.allSatisfy(\.isASCII) else { return false }
        func alnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) }
        switch type {
        case .service:
            func lowerAlnum(_ s: Unicode.Scalar) -> Bool { ("a"..."z").contains(s) || ("0"..."9").contains(s) }
            return scalars.count <= 256 && lowerAlnum(scalars.first!) && lowerAlnum(scalars.last!)
                && scalars.allSatisfy { lowerAlnum($0) || $0 == "-" || $0 == "_" }
        case .role, .policy:
            return scalars.count <= (type == .role ? 256 : 128) && scalars.allSatisfy { alnum($0) || $0 == "-" || $0 == "_" }
        }
    }
}
