import Foundation
import GRPCCore
import JacoKernel

extension ClusterService {
    /// The largest snapshot a restore takes (it is held in memory while it is checked).
    static let maxSnapshotBytes = 1 << 30

    func snapshotSave(request: ServerRequest<Jaco_V1_SnapshotSaveRequest>, context: ServerContext) async throws -> StreamingServerResponse<Jaco_V1_SnapshotChunk> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata)
            try principal.require(.aclWrite)
            return StreamingServerResponse { [kernel, info] writer in
                try await handlingErrors {
                    _ = try await kernel.saveSnapshot(engine: info.storageEngine, by: principal) { bytes in
                        var chunk = Jaco_V1_SnapshotChunk()
                        chunk.data = bytes
                        try await writer.write(chunk)
                    }
                    return [:]
                }
            }
        }
    }

    func snapshotRestore(request: StreamingServerRequest<Jaco_V1_SnapshotChunk>, context: ServerContext) async throws -> ServerResponse<Jaco_V1_SnapshotRestoreResponse> {
        try await handlingErrors {
            let principal = try await caller.principal(request.metadata, localBeforeBootstrap: true)
            try principal.require(.aclWrite)
            var data = Data()
            for try await chunk in request.messages {
                guard data.count + chunk.data.count <= Self.maxSnapshotBytes else {
                    throw JacoError(.validationFailed, "the snapshot is larger than \(Self.maxSnapshotBytes >> 20) MiB, the most a restore takes; use 'jaco store migrate' with the daemons stopped")
                }
                data.append(chunk.data)
            }
            let header = try await kernel.restoreSnapshot(data, by: principal)
            var response = Jaco_V1_SnapshotRestoreResponse()
            response.snapshot = Jaco_V1_SnapshotInfo(header)
            return ServerResponse(message: response)
        }
    }
}

extension Jaco_V1_SnapshotInfo {
    /// The wire form of a snapshot header.
    public init(_ header: SnapshotHeader) {
        self.init()
        format = UInt32(header.format)
        engine = header.engine
        storeIndex = header.storeIndex
        createdAt = header.createdAt
        hashing = header.hashing
        counts = header.counts.mapValues { UInt64($0) }
        records = UInt64(header.records)
    }
}
