import Foundation
import JacoKernel
import JacoRuntime
import Testing

@Suite("Engine specifics")
struct EngineSpecificTests {
    @Test("LMDB: a write that does not fit the map fails 'store_full' and loses nothing")
    func lmdbMapFull() async throws {
        let fixture = try EngineFixture(kind: .lmdb, extraConfig: "map_size = \"256KiB\"")
        defer { fixture.remove() }
        let store = try await fixture.open()
        try await store.commit(Transaction(writes: [.put("keep", Data("safe".utf8))]))
        let blob = Data(repeating: 0xAB, count: 16 * 1024)
        var full: JacoError?
        var committed = 0
        for n in 0..<64 {
            do {
                try await store.commit(Transaction(writes: [.put("fill/\(n)", blob)]))
                committed += 1
            } catch let error as JacoError {
                full = error
                break
            }
        }
        #expect(full?.code == .storeFull)
        #expect(full?.message.contains("map_size") == true)
        let (keep, fills, index) = try await store.read { s in (try await s.get("keep"), try await s.scan(prefix: "fill/"), s.index) }
        #expect(keep?.bytes == Data("safe".utf8))
        #expect(fills.count == committed)
        #expect(index == StoreIndex(committed + 1))
        // Small writes still fit after the failed one was rolled back.
        try await store.commit(Transaction(writes: [.delete("fill/0"), .put("after", Data("ok".utf8))]))
        try await store.close()
    }

    @Test("SQLite: the database runs in WAL mode with full synchronous commits by default")
    func sqliteDefaultsAreDurable() async throws {
        let fixture = try EngineFixture(kind: .sqlite)
        defer { fixture.remove() }
        let store = try await fixture.open()
        try await store.commit(Transaction(writes: [.put("k", Data("v".utf8))]))
        let wal = fixture.directory.appendingPathComponent("jaco.sqlite-wal")
        #expect(FileManager.default.fileExists(atPath: wal.path))
        try await store.close()
    }

    @Test("SQLite: 'wal_autocheckpoint' bounds the WAL; the default lets it grow past SQLite's own 1000 pages")
    func sqliteCheckpointInterval() async throws {
        /// The WAL's size in pages after 1200 commits of one 2 KiB value each (at least one page each).
        func walPages(extraConfig: String) async throws -> Int {
            let fixture = try EngineFixture(kind: .sqlite, extraConfig: extraConfig)
            defer { fixture.remove() }
            let store = try await fixture.open()
            for n in 0..<1200 { try await store.commit(Transaction(writes: [.put("k/\(n)", Data(repeating: 7, count: 2048))])) }
            let wal = fixture.directory.appendingPathComponent("jaco.sqlite-wal").path
            let bytes = try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int ?? 0
            try await store.close()
            return bytes / 4096
        }
        #expect(try await walPages(extraConfig: "wal_autocheckpoint = 50") < 200)
        #expect(try await walPages(extraConfig: "") > 1200)
    }

    @Test("The change feed reports 'compacted' when asked for changes it no longer keeps", arguments: [StoreKind.sqlite, .lmdb, .memory])
    func compactedFeed(kind: StoreKind) async throws {
        let fixture = try EngineFixture(kind: kind, extraConfig: "retain_changes = 3")
        defer { fixture.remove() }
        var store = try await fixture.open()
        for n in 0..<300 { try await store.commit(Transaction(writes: [.put("k/\(n % 5)", Data("\(n)".utf8))])) }
        if kind.isDurable {
            // Reopen so the feed must come from the durable log, not memory.
            try await store.close()
            store = try await fixture.open()
        }
        var iterator = store.changes(after: 1).makeAsyncIterator()
        await #expect {
            _ = try await iterator.next()
        } throws: { error in
            (error as? JacoError)?.code == .compacted
        }
        try await store.close()
    }
}
