import Foundation
import GRPCCore
import JacoKernel

extension ClusterService {
    /// The largest snapshot a restore takes (it is held in memory while it is checked).
    static let maxSnapshotBytes = 1 << 30

    func saveSnapshot(request: ServerRequest<Jaco_V1_SaveSnapshotRequest>, context: ServerContext) async throws -> StreamingServerResponse<Jaco_V1_SaveSnapshotResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer)
            try principal.require(.aclWrite)
            return StreamingServerResponse { [kernel, info] writer in
                try await handlingErrors {
                    _ = try await kernel.saveSnapshot(engine: info.storageEngine, by: principal) { bytes in
                        var response = Jaco_V1_SaveSnapshotResponse()
                        response.chunk = bytes
                        try await writer.write(response)
                    }
                    return [:]
                }
            }
        }
    }

    func restoreSnapshot(request: StreamingServerRequest<Jaco_V1_RestoreSnapshotRequest>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_RestoreSnapshotResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, peer: context.remotePeer, localBeforeBootstrap: true)
            try principal.require(.aclWrite)
            var data = Data()
            for try await message in request.messages {
                guard data.count + message.chunk.count <= Self.maxSnapshotBytes else {
                    throw JacoError(.validationFailed, "the snapshot is larger than \(Self.maxSnapshotBytes >> 20) MiB, the most a restore takes; use 'jaco store migrate' with the daemons stopped")
                }
                data.append(message.chunk)
            }
            let header = try await kernel.restoreSnapshot(data, by: principal)
            var response = Jaco_V1_RestoreSnapshotResponse()
            response.snapshot = Jaco_V1_SnapshotHeader(header)
            return ServerResponse(message: response)
        }
    }
}
