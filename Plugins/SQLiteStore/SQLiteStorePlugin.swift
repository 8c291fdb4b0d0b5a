import JacoKernel

/// The `sqlite` storage engine: one file, WAL, durable commits by default.
public enum SQLiteStorePlugin {
    /// Config keys of `[storage]` with `engine = "sqlite"`:
    /// - `path`: database file, relative to the data directory (default `jaco.sqlite`);
    /// - `synchronous`: `off`, `normal`, `full` (default) or `extra`;
    /// - `retain_changes`: how many committed changes the change log keeps (default 100000);
    /// - `busy_timeout_ms`: how long to wait for another process's lock (default 5000);
    /// - `wal_autocheckpoint`: the WAL size in pages that triggers a checkpoint (default 10000).
    public static let keys = ["path", "synchronous", "retain_changes", "busy_timeout_ms", "wal_autocheckpoint"]

    /// The factory the composition root registers under `sqlite`.
    public static let factory = StorageEngineFactory(name: "sqlite", keys: keys) { section, context in
        try SQLiteStore(options: SQLiteOptions(
            path: try section.path("path", default: "jaco.sqlite", relativeTo: context.dataDirectory),
            synchronous: try section.choice("synchronous", default: "full", from: ["off", "normal", "full", "extra"]),
            retainChanges: try section.integer("retain_changes", default: 100_000, range: 1...100_000_000),
            busyTimeoutMilliseconds: try section.integer("busy_timeout_ms", default: 5000, range: 0...600_000),
            walAutocheckpointPages: try section.integer("wal_autocheckpoint", default: 10_000, range: 1...1_000_000)))
    }
}
