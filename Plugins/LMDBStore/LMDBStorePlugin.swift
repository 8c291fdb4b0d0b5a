import JacoKernel

/// The `lmdb` storage engine: a memory-mapped B+tree, durable commits by default.
public enum LMDBStorePlugin {
    /// Config keys of `[storage]` with `engine = "lmdb"`:
    /// - `path`: environment directory, relative to the data directory (default `lmdb`);
    /// - `map_size`: the most the store can hold, e.g. `"1GiB"` (default); a write that does not
    ///   fit fails `store_full`;
    /// - `sync`: flush at every commit (default true);
    /// - `retain_changes`: how many committed changes the change log keeps (default 100000);
    /// - `max_readers`: concurrent read transactions (default 126).
    public static let keys = ["path", "map_size", "sync", "retain_changes", "max_readers"]

    /// The factory the composition root registers under `lmdb`.
    public static let factory = StorageEngineFactory(name: "lmdb", keys: keys) { section, context in
        try LMDBStore(options: LMDBOptions(
            directory: try section.path("path", default: "lmdb", relativeTo: context.dataDirectory),
            mapSize: try section.byteSize("map_size", default: 1 << 30, range: (64 << 10)...(1 << 40)),
            sync: try section.bool("sync", default: true),
            retainChanges: try section.integer("retain_changes", default: 100_000, range: 1...100_000_000),
            maxReaders: try section.integer("max_readers", default: 126, range: 1...65_536)))
    }
}
