import Foundation
import GRPCCore
import JacoKernel
import Synchronization

/// The storage seam on etcd v3: the engine for more than one machine. Keys live under a
/// prefix; the store index is etcd's revision; a transaction is one etcd Txn whose compares
/// are the transaction's conditions; snapshots read at one revision; the change feed is a
/// Watch from a revision.
public final class EtcdStore: Storage, FaultInjecting, ReachabilityReporting, BoundedTransactions, Sendable {
    /// How reads reach agreement: `linearizable` (through the leader; sees every acknowledged
    /// write) or `serializable` (the member's local copy; may lag).
    public enum Consistency: String, Sendable {
        case linearizable, serializable
    }

    /// etcd's default limit on operations in one Txn (`--max-txn-ops`).
    public static let maxOperationsPerTransaction = 128
    /// The same limit, as the kernel's ``BoundedTransactions`` capability.
    public var maxOperationsPerTransaction: Int { Self.maxOperationsPerTransaction }
    /// Keys fetched per Range call when scanning.
    static let pageSize = 512

    let endpoints: EtcdEndpoints
    /// The prefix every key is stored under, e.g. `/jaco/`.
    public let prefix: String
    /// The read consistency.
    public let consistency: Consistency
    /// Whether verifies should fail `unavailable` while the watch is down (`down_policy = "deny"`)
    /// instead of answering from the cache as it was (`extend-cache`).
    public let denyVerifiesWhenUnreachable: Bool
    private let fault = Mutex<StorageFault?>(nil)
    private let closed = Atomic<Bool>(false)
    private let watching = Atomic<Bool>(false)
    private let watches = Mutex<(next: Int, tasks: [Int: Task<Void, Never>])>((0, [:]))

    init(endpoints: EtcdEndpoints, prefix: String, consistency: Consistency, denyWhenDown: Bool) {
        self.endpoints = endpoints
        self.prefix = prefix
        self.consistency = consistency
        self.denyVerifiesWhenUnreachable = denyWhenDown
    }

    /// Whether a watch stream is established, so the cache follows the store.
    public var isReachable: Bool { watching.load(ordering: .relaxed) }

    func setWatching(_ value: Bool) { watching.store(value, ordering: .relaxed) }

    /// Keeps a running watch, so that closing the store ends it.
    func register(watch task: Task<Void, Never>) -> Int {
        watches.withLock { w in
            w.next += 1
            w.tasks[w.next] = task
            return w.next
        }
    }

    func unregister(watch id: Int) {
        _ = watches.withLock { $0.tasks.removeValue(forKey: id) }
    }

    func key(_ key: String) -> Data { Data((prefix + key).utf8) }

    func kernelKey(_ bytes: Data) -> String { String(decoding: bytes.dropFirst(prefix.utf8.count), as: UTF8.self) }

    /// The first key after every key that starts with `bytes` (etcd's range end for a prefix).
    static func rangeEnd(ofPrefix bytes: Data) -> Data {
        var end = [UInt8](bytes)
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return Data(end)
            }
            end.removeLast()
        }
        return Data([0])  // every key
    }

    private func checkOpen() throws(JacoError) {
        if closed.load(ordering: .relaxed) { throw JacoError(.closed, "the etcd store is closed") }
    }

    // MARK: - Reads

    public func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R {
        try checkOpen()
        // Pin the snapshot to the revision etcd reports now.
        var request = Etcdserverpb_RangeRequest()
        request.key = key(KeySpaceProbe.key)
        request.countOnly = true
        request.serializable = consistency == .serializable
        let response = try await range(request, what: "a read")
        return try await body(EtcdSnapshot(store: self, revision: response.header.revision))
    }

    func range(_ request: Etcdserverpb_RangeRequest, what: String) async throws -> Etcdserverpb_RangeResponse {
        do {
            return try await endpoints.call(what) { client, metadata, options in
                try await Etcdserverpb_KV.Client(wrapping: client).range(request, metadata: metadata, options: options)
            }
        } catch let error as RPCError {
            throw Self.translate(error, what: what)
        }
    }

    // MARK: - Writes

    @discardableResult
    public func commit(_ transaction: Transaction) async throws -> StoreIndex {
        try checkOpen()
        var txn = Etcdserverpb_TxnRequest()
        txn.compare = transaction.conditions.map { condition in
            var compare = Etcdserverpb_Compare()
            compare.key = key(condition.key)
            compare.result = .equal
            switch condition {
            case .absent:
                compare.target = .create
                compare.createRevision = 0
            case .modifiedAt(_, let index):
                compare.target = .mod
                compare.modRevision = Int64(index)
            }
            return compare
        }
        // etcd refuses a Txn that writes one key twice; the last write wins, as in the seam.
        var seen = Set<String>()
        let writes = transaction.writes.reversed().filter { seen.insert($0.key).inserted }.reversed()
        txn.success = writes.map { write in
            var op = Etcdserverpb_RequestOp()
            switch write {
            case .put(let key, let value):
                var put = Etcdserverpb_PutRequest()
                put.key = self.key(key)
                put.value = value
                op.requestPut = put
            case .delete(let key):
                var delete = Etcdserverpb_DeleteRangeRequest()
                delete.key = self.key(key)
                op.requestDeleteRange = delete
            }
            return op
        }
        let operations = txn.compare.count + txn.success.count
        if operations > Self.maxOperationsPerTransaction {
            throw JacoError(.storageFailure, "the transaction has \(operations) operations; etcd allows \(Self.maxOperationsPerTransaction) per Txn")
        }
        let injected = fault.withLock { f in defer { f = nil }; return f }
        if let injected, txn.success.isEmpty { throw injected.error }
        if let injected {
            // A real server-side failure: a second write to a key already written makes etcd
            // refuse the whole Txn, so nothing of it is applied.
            let applied = (0..<txn.success.count).first { injected.fires(afterWriting: $0, of: txn.success.count) } ?? txn.success.count
            let victim = writes[writes.index(writes.startIndex, offsetBy: max(0, min(applied, txn.success.count) - 1))].key
            var duplicate = Etcdserverpb_RequestOp()
            var put = Etcdserverpb_PutRequest()
            put.key = key(victim)
            duplicate.requestPut = put
            txn.success.insert(duplicate, at: min(applied, txn.success.count))
        }
        let response: Etcdserverpb_TxnResponse
        let request = txn
        do {
            // A Txn without compares leaves the same state however often it applies, so it may be
            // resent; a conditional one may have applied already, so its outcome is reported
            // unknown instead (the kernel's writes are all conditional, and settle it).
            response = try await endpoints.call("a write", idempotent: request.compare.isEmpty) { client, metadata, options in
                try await Etcdserverpb_KV.Client(wrapping: client).txn(request, metadata: metadata, options: options)
            }
        } catch let error as RPCError {
            if let injected, error.code == .invalidArgument { throw injected.error }
            throw Self.translate(error, what: "a write")
        }
        guard response.succeeded else {
            throw JacoError(.conflict, "a condition of the transaction no longer holds (another writer got there first)")
        }
        return StoreIndex(response.header.revision)
    }

    public func injectFault(_ fault: StorageFault) {
        self.fault.withLock { $0 = fault }
    }

    // MARK: - Change feed

    public func changes(after index: StoreIndex) -> ChangeFeed {
        ChangeFeed(stream: EtcdWatch(store: self).changes(after: index))
    }

    public func close() async throws {
        if closed.exchange(true, ordering: .relaxed) { return }
        // Open watches would hold a graceful shutdown of the connections up: end them first.
        let running = watches.withLock { w in
            defer { w.tasks = [:] }
            return Array(w.tasks.values)
        }
        for task in running { task.cancel() }
        await endpoints.close()
    }

    /// The kernel error for an etcd RPC error.
    static func translate(_ error: RPCError, what: String) -> JacoError {
        if error.message.contains("required revision has been compacted") {
            return JacoError(.compacted, "etcd compacted the revision \(what) asked for: \(error.message)")
        }
        if error.message.contains("authentication failed") || error.message.contains("user name is empty") || error.message.contains("invalid auth token") {
            return JacoError(.storageFailure, "etcd refused the credentials for \(what) (\(error.message)); check [storage] username and password_file")
        }
        switch error.code {
        case .unavailable, .deadlineExceeded: return JacoError(.unavailable, "etcd is unreachable for \(what): \(error.message)")
        case .unauthenticated, .permissionDenied: return JacoError(.storageFailure, "etcd refused \(what): \(error.message); check [storage] username and password_file")
        default: return JacoError(.storageFailure, "etcd failed \(what): \(error.code): \(error.message)")
        }
    }
}

/// A key read only for the revision it reports; it need not exist.
enum KeySpaceProbe {
    static let key = "m/revision-probe"
}

/// Reads at one etcd revision.
struct EtcdSnapshot: StorageSnapshot {
    let store: EtcdStore
    let revision: Int64

    var index: StoreIndex { StoreIndex(revision) }

    func get(_ key: String) async throws -> StoredValue? {
        var request = Etcdserverpb_RangeRequest()
        request.key = store.key(key)
        request.revision = revision
        request.serializable = store.consistency == .serializable
        let response = try await store.range(request, what: "a read of '\(key)'")
        return response.kvs.first.map { StoredValue(bytes: $0.value, createIndex: StoreIndex($0.createRevision), modifyIndex: StoreIndex($0.modRevision)) }
    }

    func count(prefix: String) async throws -> Int? {
        var request = Etcdserverpb_RangeRequest()
        request.key = store.key(prefix)
        request.rangeEnd = EtcdStore.rangeEnd(ofPrefix: store.key(prefix))
        request.revision = revision
        request.serializable = store.consistency == .serializable
        request.countOnly = true
        return Int(try await store.range(request, what: "a count of '\(prefix)'").count)
    }

    func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry] {
        var entries: [StoredEntry] = []
        let end = EtcdStore.rangeEnd(ofPrefix: store.key(prefix))
        var from = store.key(prefix)
        if let startingAfter, startingAfter >= prefix { from = store.key(startingAfter) + Data([0]) }
        while entries.count < limit {
            var request = Etcdserverpb_RangeRequest()
            request.key = from
            request.rangeEnd = end
            request.revision = revision
            request.limit = Int64(min(EtcdStore.pageSize, limit - entries.count))
            request.serializable = store.consistency == .serializable
            let response = try await store.range(request, what: "a scan of '\(prefix)'")
            for kv in response.kvs {
                entries.append(StoredEntry(key: store.kernelKey(kv.key), value: StoredValue(bytes: kv.value, createIndex: StoreIndex(kv.createRevision), modifyIndex: StoreIndex(kv.modRevision))))
            }
            guard response.more, let last = response.kvs.last else { break }
            from = last.key + Data([0])
        }
        return entries
    }
}
