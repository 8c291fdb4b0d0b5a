import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import GRPCProtobuf
import GRPCTransport
import JacoKernel
import SwiftProtobuf
import Testing

/// The gRPC API as a client in any language sees it: the standard health service, rich error
/// status, TokenService.GetToken, DeployService.ValidateManifest without a token.
@Suite("gRPC API end to end")
struct GRPCAPITests {
    /// Runs `body` with a raw gRPC client on the daemon's unix socket.
    static func withSocketClient<R: Sendable>(_ daemon: Daemon, _ body: (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> R) async throws -> R {
        let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: daemon.socket), transportSecurity: .plaintext)
        return try await withGRPCClient(transport: transport) { client in try await body(client) }
    }

    /// The `google.rpc.ErrorInfo` in an error's rich status.
    static func errorInfo(_ error: RPCError) throws -> (reason: String, domain: String)? {
        guard let status = try error.unpackGoogleRPCStatus() else { return nil }
        for detail in status.details {
            if let info = detail.errorInfo { return (info.reason, info.domain) }
        }
        return nil
    }

    @Test("grpc.health.v1: SERVING before and after init, per service; an unknown service is NOT_FOUND; Watch sends the status")
    func health() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        try await Self.withSocketClient(daemon) { client in
            let health = Grpc_Health_V1_Health.Client(wrapping: client)
            for service in ["", "jaco.v1.TokenService", "jaco.v1.ClusterService"] {
                var request = Grpc_Health_V1_HealthCheckRequest()
                request.service = service
                #expect(try await health.check(request).status == .serving, "'\(service)'")
            }
            var unknown = Grpc_Health_V1_HealthCheckRequest()
            unknown.service = "nope.v1.Nothing"
            let error = await #expect(throws: RPCError.self) { _ = try await health.check(unknown) }
            #expect(error?.code == .notFound)
            let first = try await health.watch(Grpc_Health_V1_HealthCheckRequest()) { response in
                for try await message in response.messages { return message.status }
                return .unknown
            }
            #expect(first == .serving)
        }
    }

    @Test("Errors carry google.rpc.ErrorInfo (reason = the stable code, domain jaco) and jaco-error-code; GetToken by identity and accessor ID; ValidateManifest needs no token")
    func richErrorsGetAndValidate() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        _ = try await daemon.jaco(["cluster", "init"])
        _ = try await EndToEndTests.jaco(["token", "issue", "--name", "alice", "--socket", daemon.socket])
        try await Self.withSocketClient(daemon) { client in
            let tokens = Jaco_V1_TokenService.Client(wrapping: client)
            var byName = Jaco_V1_GetTokenRequest()
            byName.identity = "alice"
            let alice = try await tokens.getToken(byName).token
            #expect(alice.identity == "alice" && alice.displayName == "alice")
            var byAccessor = Jaco_V1_GetTokenRequest()
            byAccessor.accessorID = BuiltIn.anonymousTokenID
            let anonymous = try await tokens.getToken(byAccessor).token
            #expect(anonymous.identity.isEmpty && anonymous.displayName == "anonymous")

            var missing = Jaco_V1_GetTokenRequest()
            missing.identity = "nobody"
            let error = await #expect(throws: RPCError.self) { _ = try await tokens.getToken(missing) }
            #expect(error?.code == .notFound)
            let info = try error.flatMap { try Self.errorInfo($0) }
            #expect(info?.reason == "not_found" && info?.domain == "jaco", "\(String(describing: info))")
            #expect(error?.metadata[stringValues: "jaco-error-code"].first(where: { _ in true }) == "not_found")

            var invalid = Jaco_V1_ValidateManifestRequest()
            invalid.manifest = Data("services: [".utf8)
            let schema = await #expect(throws: RPCError.self) { _ = try await Jaco_V1_DeployService.Client(wrapping: client).validateManifest(invalid) }
            #expect(try schema.flatMap { try Self.errorInfo($0) }?.reason == "validation_failed")
        }
        // Over TCP without a token: the schema check alone.
        let anonymous = JacoClient(target: .tls(host: "127.0.0.1", port: daemon.port, caCertificate: daemon.caCertificate), token: nil)
        let review = try await anonymous.connected { try await $0.validate(manifest: Data("services:\n  web:\n    image: nginx\n".utf8)) }
        #expect(review.services == ["web"])
        // A wrong token is still refused.
        let wrong = JacoClient(target: .tls(host: "127.0.0.1", port: daemon.port, caCertificate: daemon.caCertificate), token: "jaco_wrong")
        await #expect(throws: JacoError.self) { _ = try await wrong.connected { try await $0.validate(manifest: Data("services:\n  web:\n    image: nginx\n".utf8)) } }
    }

    @Test("grpc.reflection.v1 lists every service and answers with the file that defines a symbol, with its dependencies")
    func reflection() async throws {
        let daemon = try Daemon(config: "memory.toml")
        defer { daemon.remove() }
        try await daemon.start()
        let answers = try await Self.withSocketClient(daemon) { client in
            try await Grpc_Reflection_V1_ServerReflection.Client(wrapping: client).serverReflectionInfo(requestProducer: { writer in
                var list = Grpc_Reflection_V1_ServerReflectionRequest()
                list.listServices = ""
                var symbol = Grpc_Reflection_V1_ServerReflectionRequest()
                symbol.fileContainingSymbol = "jaco.v1.TokenService"
                var method = Grpc_Reflection_V1_ServerReflectionRequest()
                method.fileContainingSymbol = "jaco.v1.TokenService.GetToken"
                var missing = Grpc_Reflection_V1_ServerReflectionRequest()
                missing.fileContainingSymbol = "jaco.v1.Nothing"
                try await writer.write(contentsOf: [list, symbol, method, missing])
            }) { response in
                var all: [Grpc_Reflection_V1_ServerReflectionResponse] = []
                for try await message in response.messages { all.append(message) }
                return all
            }
        }
        #expect(answers.count == 4)
        let services = answers.first?.listServicesResponse.service.map(\.name) ?? []
        #expect(services == [
            "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "jaco.v1.AuditService", "jaco.v1.ClusterService", "jaco.v1.DeployService",
            "jaco.v1.TokenService",
        ])
        for answer in answers.dropFirst().prefix(2) {
            let files = try answer.fileDescriptorResponse.fileDescriptorProto.map { try Google_Protobuf_FileDescriptorProto(serializedBytes: $0) }
            let tokens = files.first { $0.name == "jaco/v1/tokens.proto" }
            #expect(tokens?.service.first?.method.contains { $0.name == "GetToken" } == true, "\(files.map(\.name))")
            // The well-known types it imports come along, so a client can build every message.
            #expect(Set(files.map(\.name)).isSuperset(of: ["google/protobuf/timestamp.proto", "google/protobuf/duration.proto"]), "\(files.map(\.name))")
        }
        #expect(answers.last?.errorResponse.errorCode == Int32(RPCError.Code.notFound.rawValue))
    }
}
