import Foundation

/// Reads the audit log and checks its hash chain.
public final class AuditLog: Sendable {
    let storage: any Storage
    let hasher: any SecretHasher

    init(storage: any Storage, hasher: any SecretHasher) {
        self.storage = storage
        self.hasher = hasher
    }

    /// Events after sequence number `after`, oldest first, at most `limit`, optionally filtered,
    /// in one array: for tests and small logs (transports stream ``stream(types:since:after:follow:by:)``).
    public func events(
        after: UInt64 = 0, limit: Int = .max, types: Set<String>? = nil, since: Date? = nil, by caller: Principal
    ) async throws -> [AuditEvent] {
        var result: [AuditEvent] = []
        for try await event in try stream(types: types, since: since, after: after, follow: false, by: caller) {
            guard result.count < limit else { break }
            result.append(event)
        }
        return result
    }

    /// Events matching the filters, oldest first, after sequence `after`; with `follow`, then
    /// every matching event as it commits, until the consumer stops. Read lazily, a page at a
    /// time. Unknown types fail `validation_failed` naming them.
    public func stream(types: Set<String>? = nil, since: Date? = nil, after: UInt64 = 0, follow: Bool, by caller: Principal) throws -> AuditEventStream {
        try caller.require(.aclRead)
        if let types {
            let unknown = types.subtracting(AuditEventType.all).sorted()
            if !unknown.isEmpty {
                throw JacoError(.validationFailed, "unknown audit event type '\(unknown.joined(separator: "', '"))' (valid: \(AuditEventType.all.joined(separator: ", ")))")
            }
        }
        // Event times are kept in whole milliseconds (truncated), so `since` is compared at that
        // precision: an event in the same millisecond as `since`, even a moment after it, matches.
        let sinceMilliseconds = since.map(\.millisecondsRoundedDown)
        let matches: @Sendable (AuditEvent) -> Bool = { event in
            (types?.contains(event.type) ?? true) && (sinceMilliseconds.map { event.time.milliseconds >= $0 } ?? true)
        }
        return AuditEventStream(storage: storage, matches: matches, follow: follow, after: after)
    }

    /// Walks the whole chain and names the first event that does not check out.
    public func verifyChain() async throws -> AuditChainReport {
        try await storage.read { snapshot in
            var expected: UInt64 = 1
            var previous = Digest256.zero
            var startKey: String? = nil
            while true {
                let entries = try await snapshot.scan(prefix: KeySpace.auditPrefix, startingAfter: startKey, limit: 1000)
                guard let lastEntry = entries.last else { break }
                startKey = lastEntry.key
                for entry in entries {
                    let event: AuditEvent
                    do { event = try AuditEvent(decoding: entry.value.bytes, key: entry.key) } catch {
                        return broken(expected - 1, at: expected, "the stored event at '\(entry.key)' cannot be read")
                    }
                    if let problem = check(event, expected: expected, previous: previous) {
                        return broken(expected - 1, at: expected, problem)
                    }
                    previous = event.hash
                    expected += 1
                }
            }
            let count = Int(expected - 1)
            let head = try await snapshot.get(KeySpace.auditHead).map {
                try AuditHead(decoding: $0.bytes, key: KeySpace.auditHead)
            }
            if let head, head.sequence != expected - 1 || head.hash != previous {
                return broken(expected - 1, at: expected, "the log ends at event \(count) but its head records event \(head.sequence); events were removed")
            }
            return AuditChainReport(checked: count, firstBrokenLink: nil)
        }
    }

    private func check(_ event: AuditEvent, expected: UInt64, previous: Digest256) -> String? {
        if event.sequence != expected {
            return "expected event \(expected) but found event \(event.sequence); events are missing or were reordered"
        }
        if event.previousHash != previous {
            return "event \(expected) does not link to the hash of event \(expected - 1)"
        }
        if hasher.contentHash(event.canonicalBytes) != event.hash {
            return "event \(expected) (\(event.type)) was modified after it was written: its hash does not match its content"
        }
        return nil
    }

    private func broken(_ checked: UInt64, at sequence: UInt64, _ reason: String) -> AuditChainReport {
        AuditChainReport(checked: Int(checked), firstBrokenLink: .init(sequence: sequence, reason: reason))
    }
}
