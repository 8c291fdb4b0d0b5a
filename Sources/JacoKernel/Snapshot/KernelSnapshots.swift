import Foundation

extension Kernel {
    /// Streams a snapshot of the whole store, read from one consistent store snapshot, to
    /// `emit` in chunks of about `chunkSize` bytes (format: ``SnapshotFile``). Needs acl:write.
    /// The file holds digests, never secrets, and neither the cluster CA's key nor the HMAC key.
    public func saveSnapshot(engine: String, by caller: Principal, chunkSize: Int = 1 << 20, emit: (Data) async throws -> Void) async throws -> SnapshotHeader {
        try caller.require(.aclWrite)
        let fingerprint = HashingFingerprint.of(hasher)
        return try await storage.read { snapshot in
            // Two passes over the same snapshot: the counts go in the header, before the records.
            let counts = try await StoreWalk.counts(in: snapshot, excluding: SnapshotFile.excludedKeys)
            let total = counts.values.reduce(0, +)
            let header = SnapshotHeader(
                format: SnapshotHeader.currentFormat, engine: engine, storeIndex: snapshot.index, createdAt: Date().rfc3339,
                hashing: fingerprint, counts: counts, records: total)
            var writer = try SnapshotFile.Writer(header: header, hasher: hasher)
            try await StoreWalk.forEachPage(in: snapshot) { page in
                for entry in page where !SnapshotFile.excludedKeys.contains(entry.key) {
                    writer.add(key: entry.key, value: entry.value.bytes)
                    if writer.pendingCount >= chunkSize { try await emit(writer.take()) }
                }
            }
            writer.finish()
            try await emit(writer.take())
            return header
        }
    }

    /// Replaces the whole state with a snapshot's: tokens, policies, roles, deployments, last
    /// use and the audit chain come back with their IDs, and the restore is audited
    /// (`snapshot_restore`, chained onto the snapshot's last event). The file is checked first
    /// (checksum, format, hashing config: secrets hashed with another algorithm or key would
    /// not verify); a bad file changes nothing. On engines that take it in one transaction the
    /// restore is all or nothing; on etcd it is written in batches (see the docs).
    public func restoreSnapshot(_ data: Data, by caller: Principal) async throws -> SnapshotHeader {
        try caller.require(.aclWrite)
        let (header, records) = try SnapshotFile.read(data, hasher: hasher)
        let ours = HashingFingerprint.of(hasher)
        guard header.hashing == ours else {
            throw JacoError(.failedPrecondition, "the snapshot's tokens were hashed with '\(header.hashing)' and this daemon hashes with '\(ours)': their secrets would not verify here; restore into a daemon with the same [hashing] algorithm and key_file")
        }
        let kept = records.filter { !SnapshotFile.excludedKeys.contains($0.key) }
        let head = try kept.first { $0.key == KeySpace.auditHead }.map { try AuditHead(decoding: $0.value, key: KeySpace.auditHead) }
        var event = AuditEvent(
            sequence: (head?.sequence ?? 0) + 1, time: Date.nowMilliseconds(), identity: caller.auditName, type: AuditEventType.snapshotRestore,
            payload: [
                "engine": header.engine, "store_index": String(header.storeIndex), "created_at": header.createdAt, "records": String(header.records),
            ],
            previousHash: head?.hash ?? .zero, hash: .zero)
        event.hash = hasher.contentHash(event.canonicalBytes)
        let closing: [Write] = [
            .put(KeySpace.audit(event.sequence), event.encode()),
            .put(KeySpace.auditHead, AuditHead(sequence: event.sequence, hash: event.hash).encode()),
        ]
        try await tokens.pipeline.replaceStore(
            with: kept.filter { $0.key != KeySpace.auditHead }.map { Write.put($0.key, $0.value) }, closingWith: closing,
            keeping: SnapshotFile.excludedKeys)
        return header
    }
}
