import Foundation

extension Kernel {
    /// The cluster CA kept in the store (certificate PEM, key PEM), if a daemon published one.
    public func sharedClusterCA() async throws -> (certificate: String, privateKey: String)? {
        try await storage.read { snapshot in
            guard let stored = try await snapshot.get(KeySpace.clusterCA) else { return nil }
            return try Self.decodeCA(stored.bytes)
        }
    }

    /// Publishes a cluster CA unless one is there already; returns the one that is there now
    /// (this one, or the one another daemon published first).
    public func publishClusterCA(certificate: String, privateKey: String) async throws -> (certificate: String, privateKey: String) {
        var w = RecordWriter(version: 1)
        w.write(certificate)
        w.write(privateKey)
        do {
            try await storage.commit(Transaction(conditions: [.absent(KeySpace.clusterCA)], writes: [.put(KeySpace.clusterCA, w.data)]))
            return (certificate, privateKey)
        } catch let error as JacoError where error.code == .conflict {
            guard let winner = try await sharedClusterCA() else { throw error }
            return winner
        }
    }

    private static func decodeCA(_ data: Data) throws(JacoError) -> (certificate: String, privateKey: String) {
        var r = try RecordReader(data, key: KeySpace.clusterCA)
        return (try r.string(), try r.string())
    }
}
