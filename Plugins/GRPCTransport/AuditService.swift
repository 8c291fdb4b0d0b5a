import Foundation
import GRPCCore
import JacoKernel
import SwiftProtobuf

/// `jaco.v1.AuditService`: the audit log in pages, as a stream that follows new events, and
/// its chain check.
struct AuditService: Jaco_V1_AuditService.ServiceProtocol {
    let kernel: Kernel
    let caller: CallerResolver
    let shutdown: ShutdownSignal

    func listAuditEvents(request: ServerRequest<Jaco_V1_ListAuditEventsRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_ListAuditEventsResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let message = request.message
            let limit = try pageLimit(message.pageSize)
            let events = try kernel.audit.stream(
                types: message.types.isEmpty ? nil : Set(message.types), since: message.hasSince ? message.since.date : nil,
                after: try Self.sequence(after: message.pageToken), follow: false, by: principal)
            var response = Jaco_V1_ListAuditEventsResponse()
            for try await event in events {
                // One more than the page holds tells that another page follows.
                if response.events.count == limit {
                    response.nextPageToken = PageToken.encode(String(response.events[limit - 1].sequence), listing: "audit")
                    break
                }
                response.events.append(Jaco_V1_AuditEvent(event))
            }
            return ServerResponse(message: response)
        }
    }

    func watchAuditEvents(
        request: ServerRequest<Jaco_V1_WatchAuditEventsRequest>, context: ServerContext
    ) async throws -> StreamingServerResponse<Jaco_V1_WatchAuditEventsResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            let message = request.message
            let events = try kernel.audit.stream(
                types: message.types.isEmpty ? nil : Set(message.types), since: message.hasSince ? message.since.date : nil,
                after: try Self.sequence(after: message.pageToken), follow: true, by: principal)
            return StreamingServerResponse { [shutdown] writer in
                // The stream ends when the daemon shuts down, so the drain can finish. Each
                // write waits for the client (flow control): a slow reader holds one page.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        try await handlingErrors {
                            for try await event in events {
                                var response = Jaco_V1_WatchAuditEventsResponse()
                                response.event = Jaco_V1_AuditEvent(event)
                                try await writer.write(response)
                            }
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

    func verifyAuditChain(request: ServerRequest<Jaco_V1_VerifyAuditChainRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_VerifyAuditChainResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            try principal.require(.aclRead)
            let report = try await kernel.audit.verifyChain()
            var response = Jaco_V1_VerifyAuditChainResponse()
            response.checked = UInt64(report.checked)
            response.intact = report.isIntact
            response.brokenSequence = report.firstBrokenLink?.sequence ?? 0
            response.reason = report.firstBrokenLink?.reason ?? ""
            return ServerResponse(message: response)
        }
    }

    /// The sequence a page token resumes after (empty: 0, the start).
    static func sequence(after pageToken: String) throws(JacoError) -> UInt64 {
        try PageToken.decode(pageToken, listing: "audit").map { text throws(JacoError) -> UInt64 in
            guard let sequence = UInt64(text) else { throw JacoError(.validationFailed, "page_token does not name an audit event") }
            return sequence
        } ?? 0
    }
}
