import Foundation
import GRPCCore
import JacoKernel

/// `jaco.v1.Audit`: the audit log, as a server stream that can follow new events.
struct AuditService: Jaco_V1_Audit.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver
    let shutdown: ShutdownSignal

    func query(request: ServerRequest<Jaco_V1_AuditQuery>, context: ServerContext) async throws -> StreamingServerResponse<Jaco_V1_AuditEvent> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let query = request.message
            let events = try kernel.audit.stream(
                types: query.types.isEmpty ? nil : Set(query.types),
                since: query.sinceMs == 0 ? nil : Date(milliseconds: query.sinceMs),
                follow: query.follow, by: principal)
            return StreamingServerResponse { [shutdown] writer in
                // A followed stream ends when the daemon shuts down, so the drain can finish.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await handlingErrors {
                            for try await event in events { try await writer.write(Jaco_V1_AuditEvent(event)) }
                        }
                    }
                    group.addTask { await shutdown.wait() }
                    try await group.next()
                    group.cancelAll()
                }
                return [:]
            }
        }
    }

    func verifyChain(request: ServerRequest<Jaco_V1_VerifyChainRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_VerifyChainResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            try principal.require(.aclRead)
            let report = try await kernel.audit.verifyChain()
            var response = Jaco_V1_VerifyChainResponse()
            response.checked = UInt32(report.checked)
            response.intact = report.isIntact
            response.brokenSequence = report.firstBrokenLink?.sequence ?? 0
            response.reason = report.firstBrokenLink?.reason ?? ""
            return ServerResponse(message: response)
        }
    }
}
