import Foundation
import GRPCCore
import JacoKernel

/// The change feed from etcd's Watch: every event under the store's prefix from a revision on,
/// grouped by revision into one ``Change`` per transaction. A watch that etcd cancels because
/// the revision was compacted ends the feed with `compacted`; a dropped stream ends it with
/// `unavailable`, and the caller resumes from the last change it saw (the kernel does).
struct EtcdWatch: Sendable {
    let store: EtcdStore

    func changes(after index: StoreIndex) -> AsyncThrowingStream<Change, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: Change.self)
        let store = self.store
        let task = Task {
            defer { store.setWatching(false) }
            do {
                try await run(after: index, into: continuation)
                continuation.finish()
            } catch let error as JacoError {
                continuation.finish(throwing: error)
            } catch let error as RPCError {
                continuation.finish(throwing: EtcdStore.translate(error, what: "the watch"))
            } catch is CancellationError {
                continuation.finish()
            } catch {
                continuation.finish(throwing: JacoError(.unavailable, "the etcd watch stopped: \(error)"))
            }
        }
        let id = store.register(watch: task)
        continuation.onTermination = { _ in
            task.cancel()
            store.unregister(watch: id)
        }
        return stream
    }

    private func run(after index: StoreIndex, into continuation: AsyncThrowingStream<Change, any Error>.Continuation) async throws {
        var create = Etcdserverpb_WatchCreateRequest()
        create.key = store.key("")
        create.rangeEnd = EtcdStore.rangeEnd(ofPrefix: store.key(""))
        create.startRevision = Int64(index) + 1
        create.progressNotify = true
        var watchRequest = Etcdserverpb_WatchRequest()
        watchRequest.createRequest = create
        var callOptions = store.endpoints.options
        callOptions.timeout = nil  // a watch runs until cancelled
        let request = watchRequest, options = callOptions
        let store = self.store
        try await store.endpoints.call("the watch", purpose: .watch) { client, metadata, _ in
            try await Etcdserverpb_Watch.Client(wrapping: client).watch(
                metadata: metadata, options: options,
                requestProducer: { writer in
                    try await writer.write(request)
                    // Keep our half of the stream open: closing it would end the watch.
                    while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
                },
                onResponse: { response in
                    // End the feed here, not when the call returns: the call waits for our
                    // request half, which only ends when this task is cancelled.
                    do {
                        for try await message in response.messages {
                            if message.created { store.setWatching(true) }
                            if message.compactRevision > 0 {
                                throw JacoError(.compacted, "etcd compacted the change history past revision \(index + 1) (oldest kept: \(message.compactRevision)); reload from a snapshot")
                            }
                            if message.canceled {
                                throw JacoError(.unavailable, "etcd cancelled the watch: \(message.cancelReason)")
                            }
                            for change in Self.group(message.events, store: store) { continuation.yield(change) }
                        }
                        throw JacoError(.unavailable, "the etcd watch stream ended")
                    } catch let error as JacoError {
                        store.setWatching(false)
                        continuation.finish(throwing: error)
                        throw error
                    } catch let error as RPCError {
                        store.setWatching(false)
                        let mapped = EtcdStore.translate(error, what: "the watch")
                        continuation.finish(throwing: mapped)
                        throw mapped
                    }
                })
        }
    }

    /// Consecutive events with one revision are one transaction.
    static func group(_ events: [Mvccpb_Event], store: EtcdStore) -> [Change] {
        var changes: [Change] = []
        for event in events {
            let mutation = Mutation(key: store.kernelKey(event.kv.key), value: event.type == .delete ? nil : event.kv.value)
            let revision = StoreIndex(event.kv.modRevision)
            if let last = changes.last, last.index == revision {
                changes[changes.count - 1].mutations.append(mutation)
            } else {
                changes.append(Change(index: revision, mutations: [mutation]))
            }
        }
        return changes
    }
}
