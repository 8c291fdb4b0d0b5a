import ArgumentParser
import Foundation
import JacoKernel
import JacoRuntime

/// `jaco store migrate`: copy a stopped store into another engine.
struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "Work on a store directly, with its daemons stopped.",
        subcommands: [Migrate.self])

    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy every record of one store into another engine (daemons stopped).",
            discussion: """
                Both stores are opened as jacod would open them, from the [storage] section of each \
                config (paths relative to the matching --…-data-dir). Every record moves as it is: \
                tokens (their digests: secrets keep working), policies, roles, deployments, last use, \
                the audit chain and the cluster CA. Both configs must hash alike ([hashing]). The \
                target must be empty unless --force (then what it holds is replaced). Afterwards the \
                record counts are compared and the audit chain is walked on the target. Any durable \
                engine to any other: sqlite, lmdb, etcd.
                """)
        @Option(help: "The config of the store to copy from.") var from: String
        @Option(help: "The config of the store to copy into.") var to: String
        @Option(help: "The data directory of the source (as jacod --data-dir).") var fromDataDir: String = "./data"
        @Option(help: "The data directory of the target.") var toDataDir: String = "./data"
        @Flag(help: "Replace what the target store holds.") var force = false

        func run() async throws {
            try await reportingErrors {
                let (fromConfig, toConfig) = (try JacoConfig.load(path: from), try JacoConfig.load(path: to))
                let (fromDirectory, toDirectory) = (URL(fileURLWithPath: fromDataDir), URL(fileURLWithPath: toDataDir))
                let source = try StoreEndpoint(config: fromConfig, directory: fromDirectory)
                let target = try StoreEndpoint(config: toConfig, directory: toDirectory)
                if source.description == target.description {
                    throw JacoError(.validationFailed, "--from and --to name the same store (\(source.description)); give the target its own file, directory or etcd prefix")
                }
                let fromHashing = HashingFingerprint.of(try Runtime.makeHasher(fromConfig, dataDirectory: fromDirectory))
                let toHashing = HashingFingerprint.of(try Runtime.makeHasher(toConfig, dataDirectory: toDirectory))
                guard fromHashing == toHashing else {
                    throw JacoError(.failedPrecondition, "the two configs hash differently ('\(fromHashing)' and '\(toHashing)'): secrets issued on the source would not verify on the target; give the target the same [hashing]")
                }
                let counts = try await copy(source, into: target)
                // The audit chain, walked on the target as a daemon would see it.
                let kernel = try await Runtime.startKernel(toConfig, dataDirectory: toDirectory)
                let report: AuditChainReport
                do {
                    report = try await kernel.audit.verifyChain()
                    try await kernel.shutdown()
                } catch {
                    try? await kernel.shutdown()
                    throw error
                }
                if let broken = report.firstBrokenLink {
                    throw JacoError(.auditChainBroken, "the audit chain on the target is broken at event \(broken.sequence): \(broken.reason)")
                }
                print("Migrated \(counts.values.reduce(0, +)) records (\(StoreCopy.describe(counts))) from \(source.description) to \(target.description); audit chain intact (\(report.checked) events)")
            }
        }

        private func copy(_ source: StoreEndpoint, into target: StoreEndpoint) async throws -> StoreCopy.Counts {
            let from = try await Runtime.openStorage(source.config, dataDirectory: source.directory)
            let to: any Storage
            do { to = try await Runtime.openStorage(target.config, dataDirectory: target.directory) } catch {
                try? await from.close()
                throw error
            }
            do {
                if try await StoreCopy.counts(of: from).isEmpty {
                    throw JacoError(.validationFailed, "the source store \(source.description) is empty; check --from and --from-data-dir")
                }
                let meter = ProgressMeter(label: "copied", unit: "records")
                let counts = try await StoreCopy.copy(from: from, to: to, replace: force) { copied, total in
                    meter.update(Double(copied), of: Double(total))
                }
                meter.finish()
                try await from.close()
                try await to.close()
                return counts
            } catch {
                try? await from.close()
                try? await to.close()
                throw error
            }
        }
    }
}

/// One side of a migration: its config, data directory, and a description of the store.
struct StoreEndpoint {
    let config: JacoConfig
    let directory: URL

    init(config: JacoConfig, directory: URL) throws {
        self.config = config
        self.directory = directory
        let engine = try config.section("storage").string("engine", default: "sqlite")
        guard engine != "memory" else {
            throw JacoError(.validationFailed, "\(config.source) uses the memory engine, which keeps nothing to migrate; use a sqlite, lmdb or etcd config")
        }
    }

    /// `sqlite at /var/lib/jaco/jaco.db`, `etcd at http://…`: what the two sides are.
    var description: String {
        let section = config.section("storage")
        let engine = (try? section.string("engine", default: "sqlite")) ?? "?"
        switch engine {
        case "etcd":
            let endpoints = (try? section.optionalStringList("endpoints")).flatMap { $0 }?.joined(separator: ",") ?? "?"
            return "etcd at \(endpoints) prefix \((try? section.string("prefix", default: "/jaco/")) ?? "?")"
        default:
            let fallback = engine == "lmdb" ? "lmdb" : "jaco.sqlite"
            let path = (try? section.path("path", default: fallback, relativeTo: directory))?.standardizedFileURL.path ?? "?"
            return "\(engine) at \(path)"
        }
    }
}
