import Foundation
import JacoKernel
import JacoTestKit
import MemoryStore
import Testing

/// A policy that gates every service named `root`, for testing the kernel's side of admission.
struct GateRoot: AdmissionPolicy {
    var name: String { "gate-root" }

    func validate(_ manifest: [UInt8]) throws(JacoError) -> AdmissionReview {
        let services = String(decoding: manifest, as: UTF8.self).split(separator: ",").map(String.init)
        guard !services.isEmpty else { throw JacoError(.validationFailed, "no services") }
        return AdmissionReview(services: services, gatedServices: services.filter { $0 == "root" })
    }

    func admit(_ review: AdmissionReview, for principal: Principal) throws(JacoError) {
        if !review.gatedServices.isEmpty && !principal.allowsPrivileged {
            throw JacoError(.permissionDenied, "service 'root' needs privileges")
        }
    }
}

@Suite("Deployments")
struct DeploymentServiceTests {
    @Test("Each admitted apply stores the next revision with its audit events; a refused one stores nothing")
    func revisions() async throws {
        let store = MemoryStorePlugin.makeStore()
        let kernel = try await Kernel.start(storage: store, hasher: InProcessJaco.defaultHasher, admission: AdmissionChain([GateRoot()]))
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        let deployer = try kernel.tokens.verify(secret: try await kernel.tokens.issue(identity: "deployer", allowsPrivileged: true, by: op).secret)

        let first = try await kernel.deployments.apply(deployment: "web", manifest: Array("api,db".utf8), by: op)
        #expect(first.revision == 1)
        let refused = await #expect(throws: JacoError.self) {
            _ = try await kernel.deployments.apply(deployment: "web", manifest: Array("api,root".utf8), by: op)
        }
        #expect(refused?.code == .permissionDenied)
        let second = try await kernel.deployments.apply(deployment: "web", manifest: Array("api,root".utf8), by: deployer)
        #expect(second.revision == 2)
        #expect(second.review.gatedServices == ["root"])
        #expect(try await kernel.deployments.revisions(of: "web") == [1, 2])
        #expect(try await kernel.deployments.revisions(of: "other") == [])

        let events = try await kernel.audit.events(types: ["apply", "privileged_workload_admitted"], by: op)
        #expect(events.map { "\($0.type):\($0.identity)" } == ["apply:bootstrap", "apply:deployer", "privileged_workload_admitted:deployer"])
        #expect(events.last?.payload["service"] == "root")
        #expect(try await kernel.audit.verifyChain().isIntact)

        let badName = await #expect(throws: JacoError.self) {
            _ = try await kernel.deployments.apply(deployment: "Bad Name", manifest: Array("api".utf8), by: op)
        }
        #expect(badName?.code == .validationFailed)
        try await kernel.shutdown()
    }
}
