import Foundation
import JacoKernel
import JacoRuntime
import JacoTestKit

/// Every storage engine the conformance suite runs over. Add a case and every check runs on it.
enum StoreKind: String, CaseIterable, Sendable {
    case memory, sqlite, lmdb

    /// Whether the engine keeps data across close and reopen.
    var isDurable: Bool { self != .memory }

    /// The `[storage]` section that selects this engine.
    func config(extra: String = "") throws -> JacoConfig {
        try JacoConfig.parse("[storage]\nengine = \"\(rawValue)\"\n\(extra)", source: "test-\(rawValue).toml")
    }
}

/// Opens an engine through the composition root in its own temporary data directory.
struct EngineFixture: StoreFixture {
    let kind: StoreKind
    let directory: URL
    let extraConfig: String

    init(kind: StoreKind, extraConfig: String = "") throws {
        self.kind = kind
        self.extraConfig = extraConfig
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-store-\(kind)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var name: String { kind.rawValue }
    var isDurable: Bool { kind.isDurable }

    func open() async throws -> any Storage & FaultInjecting {
        let storage = try await Runtime.openStorage(try kind.config(extra: extraConfig), dataDirectory: directory)
        guard let injecting = storage as? any Storage & FaultInjecting else {
            throw JacoError(.storageFailure, "engine \(kind) does not support fault injection")
        }
        return injecting
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
