/// The storage seam: an ordered key-value engine.
///
/// Keys are UTF-8 strings ordered by their bytes. Every committed transaction with at least one
/// effective write bumps the store-wide index by one; the change feed yields committed
/// transactions in commit order and can resume after any retained index.
public protocol Storage: Sendable {
    /// Runs `body` against a consistent snapshot of the store.
    func read<R: Sendable>(_ body: (any StorageSnapshot) async throws -> R) async throws -> R

    /// Atomically checks the conditions and applies the writes; returns the new store index.
    /// Throws `conflict` when a condition fails; nothing is written then.
    @discardableResult
    func commit(_ transaction: Transaction) async throws -> StoreIndex

    /// Committed changes with an index greater than `index`, in commit order, then live ones.
    /// Fails with `compacted` when changes after `index` are no longer retained.
    func changes(after index: StoreIndex) -> ChangeFeed

    /// Flushes and releases the engine. Later calls fail with `closed`.
    func close() async throws
}

/// A consistent, read-only view of the store at one index.
public protocol StorageSnapshot {
    /// The store index this snapshot reflects.
    var index: StoreIndex { get }
    /// The value of `key`, or nil.
    func get(_ key: String) async throws -> StoredValue?
    /// Entries whose key starts with `prefix`, in key order, after `startingAfter`, at most `limit`.
    func scan(prefix: String, startingAfter: String?, limit: Int) async throws -> [StoredEntry]
    /// How many keys start with `prefix`, or nil when the engine cannot tell without a full
    /// scan. A sizing hint (the cache reserves its tables before loading), so counting should
    /// read keys only.
    func count(prefix: String) async throws -> Int?
}

extension StorageSnapshot {
    /// No count: the caller sizes its tables as it goes.
    public func count(prefix: String) async throws -> Int? { nil }

    /// All entries whose key starts with `prefix`, in key order.
    public func scan(prefix: String) async throws -> [StoredEntry] {
        try await scan(prefix: prefix, startingAfter: nil, limit: .max)
    }
}

/// Faults a store can be told to inject, so tests can prove a failed write changes nothing.
public enum StorageFault: Sendable, Equatable {
    /// The next commit fails after its writes were applied inside the engine's transaction.
    case failNextCommit
    /// The next commit fails after applying this many of its writes.
    case failAfterWrites(Int)
}

/// A capability: the engine can inject faults into its real write path.
public protocol FaultInjecting: Sendable {
    /// Arms a fault for the next commit.
    func injectFault(_ fault: StorageFault)
}

extension StorageFault {
    /// The error an injected fault raises.
    public var error: JacoError { JacoError(.storageFailure, "injected fault: \(self)") }

    /// Whether the fault fires before applying write number `written` (0-based) of `total`.
    public func fires(afterWriting written: Int, of total: Int) -> Bool {
        switch self {
        case .failNextCommit: written == total
        case .failAfterWrites(let n): written == n || (n > total && written == total)
        }
    }
}

/// A store shared by several daemons over a network, whose change feed can be cut off. While it
/// is, each daemon's verification cache may be stale. Class-bound: the verify path checks it on
/// every call, and a class existential is one reference to load.
public protocol ReachabilityReporting: AnyObject, Sendable {
    /// Whether the change feed is currently connected.
    var isReachable: Bool { get }
    /// Whether verifies should fail `unavailable` while it is not (`deny`), rather than answer
    /// from the cache as it was (`extend-cache`, like Consul's `down_policy`).
    var denyVerifiesWhenUnreachable: Bool { get }
}
