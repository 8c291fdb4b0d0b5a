import JacoKernel

/// The `memory` storage engine: for tests and harnesses. Nothing survives the process.
public enum MemoryStorePlugin {
    /// Config keys of `[storage]` with `engine = "memory"`.
    public static let keys = ["retain_changes"]

    /// The factory the composition root registers under `memory`.
    public static let factory = StorageEngineFactory(name: "memory", keys: keys) { section, _ in
        makeStore(retainChanges: try section.integer("retain_changes", default: 100_000, range: 1...10_000_000))
    }

    /// A new, empty memory store that keeps the last `retainChanges` changes for its feed.
    /// It also conforms to `FaultInjecting`.
    public static func makeStore(retainChanges: Int = 100_000) -> any Storage & FaultInjecting {
        MemoryStore(retainChanges: retainChanges)
    }
}
