import Foundation
@testable import GRPCTransport
import SwiftProtobuf
import Testing

/// The rules of `buf lint`'s STANDARD set that other languages' generators and tooling rely on,
/// plus Jaco's own (times and durations as well-known types; error codes in step with the
/// kernel's), checked on the descriptors jacod serves by reflection — the same bytes `buf`
/// would build. buf itself is not packaged for Debian or PyPI, hence this equivalent.
@Suite("Protos follow the API style rules")
struct ProtoStyleTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The jaco/ files of the served descriptor set.
    static func jacoFiles() throws -> [Google_Protobuf_FileDescriptorProto] {
        let data = try #require(Data(base64Encoded: ReflectionDescriptors.base64))
        return try Google_Protobuf_FileDescriptorSet(serializedBytes: data).file.filter { $0.name.hasPrefix("jaco/") }
    }

    static func isPascalCase(_ name: String) -> Bool { name.range(of: #"^[A-Z][A-Za-z0-9]*$"#, options: .regularExpression) != nil }
    static func isLowerSnakeCase(_ name: String) -> Bool { name.range(of: #"^[a-z][a-z0-9]*(_[a-z0-9]+)*$"#, options: .regularExpression) != nil }
    static func isUpperSnakeCase(_ name: String) -> Bool { name.range(of: #"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"#, options: .regularExpression) != nil }
    /// `LeakedSecretOutcome.Result` → `RESULT`; `ErrorCode` → `ERROR_CODE`.
    static func upperSnake(_ pascal: String) -> String {
        pascal.reduce(into: "") { out, c in
            if c.isUppercase, !out.isEmpty { out += "_" }
            out += c.uppercased()
        }
    }

    /// Every message in a file, nested ones too, with its full name.
    static func messages(_ file: Google_Protobuf_FileDescriptorProto) -> [(String, Google_Protobuf_DescriptorProto)] {
        func walk(_ message: Google_Protobuf_DescriptorProto, _ prefix: String) -> [(String, Google_Protobuf_DescriptorProto)] {
            [(prefix + message.name, message)] + message.nestedType.flatMap { walk($0, prefix + message.name + ".") }
        }
        return file.messageType.flatMap { walk($0, "") }
    }

    /// Every enum in a file, nested ones too.
    static func enums(_ file: Google_Protobuf_FileDescriptorProto) -> [Google_Protobuf_EnumDescriptorProto] {
        file.enumType + messages(file).flatMap { $0.1.enumType }
    }

    @Test("Files: package jaco.v1 in jaco/v1/, the same go/java/csharp options in every file")
    func files() throws {
        let files = try Self.jacoFiles()
        #expect(files.count >= 5)
        for file in files {
            let directory = (file.name as NSString).deletingLastPathComponent
            #expect(file.package.replacingOccurrences(of: ".", with: "/") == directory, "\(file.name): package \(file.package) is not its directory")
            #expect(file.package.range(of: #"\.v[0-9]+$"#, options: .regularExpression) != nil, "\(file.name): package without a version suffix")
            #expect(file.options.goPackage == "github.com/jaco/jaco/gen/go/jaco/v1;jacov1", "\(file.name): go_package")
            #expect(file.options.javaPackage == "io.jaco.v1" && file.options.javaMultipleFiles, "\(file.name): java options")
            #expect(file.options.csharpNamespace == "Jaco.V1", "\(file.name): csharp_namespace")
        }
    }

    @Test("Services end in Service; each RPC takes <Rpc>Request and returns <Rpc>Response, used by no other RPC; every service and RPC is commented")
    func servicesAndMethods() throws {
        var used: [String: String] = [:]
        for file in try Self.jacoFiles() {
            let comments = Set(file.sourceCodeInfo.location.filter { !$0.leadingComments.isEmpty }.map(\.path))
            for (s, service) in file.service.enumerated() {
                #expect(Self.isPascalCase(service.name) && service.name.hasSuffix("Service"), "service \(service.name)")
                #expect(comments.contains([6, Int32(s)]), "service \(service.name) has no comment")
                for (m, method) in service.method.enumerated() {
                    let where_ = "\(service.name).\(method.name)"
                    #expect(Self.isPascalCase(method.name), "\(where_): not PascalCase")
                    #expect(method.inputType == ".\(file.package).\(method.name)Request", "\(where_) takes \(method.inputType)")
                    #expect(method.outputType == ".\(file.package).\(method.name)Response", "\(where_) returns \(method.outputType)")
                    #expect(comments.contains([6, Int32(s), 2, Int32(m)]), "\(where_) has no comment")
                    for type in [method.inputType, method.outputType] {
                        #expect(used.updateValue(where_, forKey: type) == nil, "\(type) is used by \(used[type] ?? "") and \(where_)")
                    }
                }
            }
        }
        #expect(used.count >= 32, "\(used.count) request/response types")
    }

    @Test("Messages PascalCase, fields lower_snake_case; times are Timestamps named *_time, durations Durations; enums prefixed, zero value _UNSPECIFIED")
    func messagesFieldsEnums() throws {
        for file in try Self.jacoFiles() {
            for (name, message) in Self.messages(file) {
                #expect(Self.isPascalCase(message.name), "message \(name)")
                for field in message.field {
                    let where_ = "\(name).\(field.name)"
                    #expect(Self.isLowerSnakeCase(field.name), "\(where_): not lower_snake_case")
                    if field.typeName == ".google.protobuf.Timestamp" {
                        #expect(field.name == "time" || field.name == "since" || field.name.hasSuffix("_time"), "\(where_): a Timestamp is named *_time")
                    }
                    let integer: [Google_Protobuf_FieldDescriptorProto.TypeEnum] = [.int64, .uint64, .int32, .uint32, .sint64, .fixed64, .double]
                    if integer.contains(field.type) {
                        for unit in ["_ms", "_at", "_seconds", "_secs", "_millis", "_ns"] {
                            #expect(!field.name.hasSuffix(unit), "\(where_): a time or duration as a number; use google.protobuf.Timestamp or Duration")
                        }
                    }
                    // One name for one thing: the flag a token carries.
                    #expect(!field.name.hasPrefix("allow_privileged"), "\(where_): the field is named allows_privileged everywhere")
                }
            }
            for enumeration in Self.enums(file) {
                let prefix = Self.upperSnake(enumeration.name) + "_"
                #expect(enumeration.value.first?.name == prefix + "UNSPECIFIED" && enumeration.value.first?.number == 0, "enum \(enumeration.name): zero value")
                for value in enumeration.value {
                    #expect(Self.isUpperSnakeCase(value.name) && value.name.hasPrefix(prefix), "\(enumeration.name).\(value.name): not \(prefix)UPPER_SNAKE_CASE")
                }
            }
        }
    }

    @Test("jaco.v1.ErrorCode holds exactly the kernel's JacoError codes")
    func errorCodesMatchTheKernel() throws {
        let errorCode = try #require(try Self.jacoFiles().flatMap(\.enumType).first { $0.name == "ErrorCode" })
        let inProto = Set(errorCode.value.map(\.name).filter { $0 != "ERROR_CODE_UNSPECIFIED" }.map { $0.dropFirst("ERROR_CODE_".count).lowercased() })
        let source = try String(contentsOf: Self.root.appendingPathComponent("Sources/JacoKernel/Errors/JacoError.swift"), encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"public static let \w+ = Code\("([a-z_]+)"\)"#)
        let inKernel = Set(regex.matches(in: source, range: NSRange(source.startIndex..., in: source)).compactMap { match in
            Range(match.range(at: 1), in: source).map { String(source[$0]) }
        })
        #expect(inKernel.count >= 20)
        #expect(inProto == inKernel, "only in the proto: \(inProto.subtracting(inKernel).sorted()); only in the kernel: \(inKernel.subtracting(inProto).sorted())")
    }

    @Test("Every jaco.v1 service answers health checks by its name")
    func healthKnowsEveryService() throws {
        let services = try Self.jacoFiles().flatMap { file in file.service.map { "\(file.package).\($0.name)" } }
        #expect(services.count == 4)
        #expect(Set(services).isSubset(of: HealthService.services), "\(Set(services).subtracting(HealthService.services))")
    }
}
