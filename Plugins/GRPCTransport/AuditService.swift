import Foundation
import GRPCCore
import JacoKernel

/// The trailing-metadata key that carries the audit stream's next page token.
let nextPageTokenKey = "jaco-next-page-token"

/// `jaco.v1.Audit`: the audit log, as a server stream that can follow new events.
struct AuditService: Jaco_V1_Audit.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver
    let shutdown: ShutdownSignal

    func query(request: ServerRequest<Jaco_V1_AuditQuery>, context: ServerContext) async throws -> StreamingServerResponse<Jaco_V1_AuditEvent> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            let query = request.message
            if query.follow && query.pageSize > 0 {
                throw JacoError(.validationFailed, "page_size cannot be combined with follow: a followed stream has no last page")
            }
            let after = try PageToken.decode(query.pageToken, listing: "audit").map { text throws(JacoError) -> UInt64 in
                guard let sequence = UInt64(text) else { throw JacoError(.validationFailed, "page_token does not name an audit event") }
                return sequence
            } ?? 0
            let events = try kernel.audit.stream(
                types: query.types.isEmpty ? nil : Set(query.types),
                since: query.sinceMs == 0 ? nil : Date(milliseconds: query.sinceMs),
                after: after, follow: query.follow, by: principal)
            let limit = query.pageSize == 0 ? Int.max : Int(query.pageSize)
            return StreamingServerResponse { [shutdown] writer in
                // A followed stream ends when the daemon shuts down, so the drain can finish.
                // Each write waits for the client (flow control): a slow reader holds one page.
                try await withThrowingTaskGroup(of: Metadata.self) { group in
                    group.addTask {
                        try await handlingErrors {
                            var written = 0
                            var last: UInt64 = 0
                            for try await event in events {
                                if written == limit {
                                    return [nextPageTokenKey: .string(PageToken.encode(String(last), listing: "audit"))]
                                }
                                try await writer.write(Jaco_V1_AuditEvent(event))
                                written += 1
                                last = event.sequence
                            }
                            return [:]
                        }
                    }
                    group.addTask {
                        await shutdown.wait()
                        return [:]
                    }
                    let trailers = try await group.next() ?? [:]
                    group.cancelAll()
                    return trailers
                }
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
