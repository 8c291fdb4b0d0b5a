import Foundation
import GRPCCore
import SwiftProtobuf

/// `grpc.reflection.v1.ServerReflection`: lists the services and answers with the descriptors
/// of the file that defines a symbol (or has a name), with its dependencies, from the
/// descriptor set `scripts/generate-protos.sh` embeds. No token needed: it describes the API,
/// not its data.
struct ReflectionService: Grpc_Reflection_V1_ServerReflection.ServiceProtocol {
    /// The embedded descriptors, indexed once.
    static let index = DescriptorIndex(base64: ReflectionDescriptors.base64)

    func serverReflectionInfo(
        request: StreamingServerRequest<Grpc_Reflection_V1_ServerReflectionRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Grpc_Reflection_V1_ServerReflectionResponse> {
        StreamingServerResponse { writer in
            for try await message in request.messages { try await writer.write(Self.answer(message)) }
            return [:]
        }
    }

    static func answer(_ request: Grpc_Reflection_V1_ServerReflectionRequest) -> Grpc_Reflection_V1_ServerReflectionResponse {
        var response = Grpc_Reflection_V1_ServerReflectionResponse()
        response.validHost = request.host
        response.originalRequest = request
        func files(_ name: String?, missing: String) {
            guard let name, let closure = index.withDependencies(name) else {
                var error = Grpc_Reflection_V1_ErrorResponse()
                error.errorCode = Int32(RPCError.Code.notFound.rawValue)
                error.errorMessage = missing
                response.errorResponse = error
                return
            }
            var found = Grpc_Reflection_V1_FileDescriptorResponse()
            found.fileDescriptorProto = closure
            response.fileDescriptorResponse = found
        }
        switch request.messageRequest {
        case .listServices?:
            var list = Grpc_Reflection_V1_ListServiceResponse()
            list.service = index.services.map { name in
                var service = Grpc_Reflection_V1_ServiceResponse()
                service.name = name
                return service
            }
            response.listServicesResponse = list
        case .fileByFilename(let name)?:
            files(index.files[name] == nil ? nil : name, missing: "no file named '\(name)'")
        case .fileContainingSymbol(let symbol)?:
            files(index.fileBySymbol[symbol], missing: "no symbol '\(symbol)'")
        case .fileContainingExtension?, .allExtensionNumbersOfType?, nil:
            var error = Grpc_Reflection_V1_ErrorResponse()
            error.errorCode = Int32(RPCError.Code.unimplemented.rawValue)
            error.errorMessage = "Jaco's protos define no extensions"
            response.errorResponse = error
        }
        return response
    }
}

/// The files of a FileDescriptorSet by name, and the file that defines each symbol.
struct DescriptorIndex: Sendable {
    /// Serialized FileDescriptorProto by file name.
    let files: [String: Data]
    /// Each file's direct dependencies.
    let dependencies: [String: [String]]
    /// The file that defines each fully qualified symbol (messages, enums, services, methods).
    let fileBySymbol: [String: String]
    /// Every service, sorted.
    let services: [String]

    init(base64: String) {
        let set = (Data(base64Encoded: base64)).flatMap { try? Google_Protobuf_FileDescriptorSet(serializedBytes: $0) } ?? Google_Protobuf_FileDescriptorSet()
        var files: [String: Data] = [:], dependencies: [String: [String]] = [:], symbols: [String: String] = [:], services: [String] = []
        for file in set.file {
            files[file.name] = (try? file.serializedData()) ?? Data()
            dependencies[file.name] = file.dependency
            let prefix = file.package.isEmpty ? "" : file.package + "."
            func add(_ messages: [Google_Protobuf_DescriptorProto], in scope: String) {
                for message in messages {
                    let name = scope + message.name
                    symbols[name] = file.name
                    for nested in message.enumType { symbols[name + "." + nested.name] = file.name }
                    add(message.nestedType, in: name + ".")
                }
            }
            add(file.messageType, in: prefix)
            for enumeration in file.enumType { symbols[prefix + enumeration.name] = file.name }
            for service in file.service {
                symbols[prefix + service.name] = file.name
                for method in service.method { symbols[prefix + service.name + "." + method.name] = file.name }
                services.append(prefix + service.name)
            }
        }
        self.files = files
        self.dependencies = dependencies
        self.fileBySymbol = symbols
        self.services = services.sorted()
    }

    /// The file named `name` and every file it depends on, directly or not, serialized.
    func withDependencies(_ name: String) -> [Data]? {
        guard files[name] != nil else { return nil }
        var seen: [String] = []
        var pending = [name]
        while let next = pending.popLast() {
            guard !seen.contains(next), files[next] != nil else { continue }
            seen.append(next)
            pending += dependencies[next] ?? []
        }
        return seen.compactMap { files[$0] }
    }
}
