import Foundation

/// The store-wide index: every committed write transaction bumps it. Monotonic, survives restart.
public typealias StoreIndex = UInt64

/// A value as stored, with the indexes of the transactions that created and last modified it.
public struct StoredValue: Sendable, Equatable {
    /// The value's bytes.
    public var bytes: Data
    /// Index of the transaction that created the key.
    public var createIndex: StoreIndex
    /// Index of the transaction that last wrote the key.
    public var modifyIndex: StoreIndex

    /// Creates a stored value.
    public init(bytes: Data, createIndex: StoreIndex, modifyIndex: StoreIndex) {
        self.bytes = bytes
        self.createIndex = createIndex
        self.modifyIndex = modifyIndex
    }
}

/// A key together with its stored value, as returned by prefix scans.
public struct StoredEntry: Sendable, Equatable {
    /// The key.
    public var key: String
    /// The value and its indexes.
    public var value: StoredValue

    /// Creates an entry.
    public init(key: String, value: StoredValue) {
        self.key = key
        self.value = value
    }
}

/// A precondition of a transaction; if any fails, the commit fails with `conflict` and writes nothing.
public enum Condition: Sendable, Hashable {
    /// The key must not exist.
    case absent(String)
    /// The key must exist and have been last modified at exactly this index.
    case modifiedAt(String, StoreIndex)

    /// The key the condition is about.
    public var key: String {
        switch self {
        case .absent(let key), .modifiedAt(let key, _): key
        }
    }
}

/// One write of a transaction.
public enum Write: Sendable, Equatable {
    /// Sets the key to the value.
    case put(String, Data)
    /// Removes the key; succeeds when it does not exist.
    case delete(String)

    /// The key written.
    public var key: String {
        switch self {
        case .put(let key, _), .delete(let key): key
        }
    }
}

/// An atomic multi-key write: all writes apply, or none do.
public struct Transaction: Sendable, Equatable {
    /// Preconditions checked atomically with the writes.
    public var conditions: [Condition]
    /// The writes, applied in order.
    public var writes: [Write]

    /// Creates a transaction.
    public init(conditions: [Condition] = [], writes: [Write]) {
        self.conditions = conditions
        self.writes = writes
    }
}

/// One key's change inside a committed transaction; `value == nil` is a deletion.
public struct Mutation: Sendable, Equatable {
    /// The key changed.
    public var key: String
    /// The new value, or nil when the key was deleted.
    public var value: Data?

    /// Creates a mutation.
    public init(key: String, value: Data?) {
        self.key = key
        self.value = value
    }
}

/// A committed transaction as seen by the change feed.
public struct Change: Sendable, Equatable {
    /// The store index the transaction committed at.
    public var index: StoreIndex
    /// The keys it changed, in write order (deletions of missing keys are left out).
    public var mutations: [Mutation]

    /// Creates a change.
    public init(index: StoreIndex, mutations: [Mutation]) {
        self.index = index
        self.mutations = mutations
    }
}

extension Condition {
    /// Checks the condition against the current value of its key, throwing `conflict` when it fails.
    public func check(against current: StoredValue?) throws(JacoError) {
        switch self {
        case .absent(let key):
            if current != nil { throw JacoError(.conflict, "key '\(key)' already exists") }
        case .modifiedAt(let key, let index):
            guard let current else { throw JacoError(.conflict, "key '\(key)' no longer exists") }
            if current.modifyIndex != index {
                throw JacoError(.conflict, "key '\(key)' was modified at index \(current.modifyIndex), expected \(index)")
            }
        }
    }
}
