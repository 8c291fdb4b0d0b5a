import GRPCCore
@testable import GRPCTransport
import JacoKernel
import Testing

/// The `authorization` metadata of gRPC calls, read on bytes.
@Suite("gRPC bearer token metadata")
struct BearerTokenTests {
    static func metadata(_ header: String?) -> Metadata {
        var metadata = Metadata()
        if let header { metadata.addString(header, forKey: "authorization") }
        return metadata
    }

    @Test("The scheme is case-insensitive and blanks around the token are dropped", arguments: [
        ("Bearer jaco_x", "jaco_x"), ("bearer jaco_x", "jaco_x"), ("BEARER   jaco_x \t", "jaco_x"), ("Bearer a b", "a b"),
    ])
    func accepted(header: String, token: String) throws {
        #expect(try CallerResolver.bearerToken(Self.metadata(header)) == token)
    }

    @Test("Other schemes, a missing token and a missing header are refused 'token_invalid'", arguments: [
        "Basic abc", "Bearer", "Bearer   ", "Bearerjaco_x", "", "Béarer x", nil,
    ])
    func refused(header: String?) {
        let error = #expect(throws: JacoError.self) { _ = try CallerResolver.bearerToken(Self.metadata(header)) }
        #expect(error?.code == .tokenInvalid)
        #expect(error?.message.contains(header == nil ? "no token was presented" : "must be 'Bearer <token>'") == true, "\(String(describing: error))")
    }
}
