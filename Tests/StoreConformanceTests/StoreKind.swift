import Foundation
import JacoKernel
import JacoRuntime
import JacoTestKit

/// Every storage engine the conformance suite runs over. Add a case and every check runs on it.
enum StoreKind: String, CaseIterable, Sendable {
    case memory, sqlite, lmdb, etcd

    /// Whether the engine keeps data across close and reopen.
    var isDurable: Bool { self != .memory }

    /// The `[storage]` section that selects this engine.
    func config(extra: String = "") throws -> JacoConfig {
        try JacoConfig.parse("[storage]\nengine = \"\(rawValue)\"\n\(extra)", source: "test-\(rawValue).toml")
    }
}

/// A fixture's own single-member etcd, started on first open and kept across reopens: the
/// store index is etcd's revision, which every writer to that etcd moves.
final class EtcdHolder: @unchecked Sendable {
    private let lock = NSLock()
    private var cluster: EtcdCluster?

    func get() async throws -> EtcdCluster {
        if let cluster = lock.withLock({ cluster }) { return cluster }
        let started = try await EtcdCluster.start(size: 1)
        lock.withLock { cluster = started }
        return started
    }

    func stop() { lock.withLock { cluster }?.stop() }
}

/// Opens an engine through the composition root in its own temporary data directory.
struct EngineFixture: StoreFixture {
    let kind: StoreKind
    let directory: URL
    let extraConfig: String
    private let etcd = EtcdHolder()

    init(kind: StoreKind, extraConfig: String = "") throws {
        self.kind = kind
        self.extraConfig = extraConfig
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-store-\(kind)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var name: String { kind.rawValue }
    var isDurable: Bool { kind.isDurable }

    func open() async throws -> any Storage & FaultInjecting {
        var extra = extraConfig
        if kind == .etcd {
            let etcd = try await etcd.get()
            extra += "\nendpoints = [\"\(etcd.members[0].clientURL)\"]\nprefix = \"/\(directory.lastPathComponent)/\""
        }
        let storage = try await Runtime.openStorage(try kind.config(extra: extra), dataDirectory: directory)
        guard let injecting = storage as? any Storage & FaultInjecting else {
            throw JacoError(.storageFailure, "engine \(kind) does not support fault injection")
        }
        return injecting
    }

    func remove() {
        etcd.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
