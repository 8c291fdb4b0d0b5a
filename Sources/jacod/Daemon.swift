import Foundation
import JacoKernel
import JacoRuntime
import Logging
import ServiceLifecycle
import UnixSignals

/// Assembles the daemon from its config and runs it until SIGTERM or SIGINT.
struct Daemon {
    let configPath: String?
    let dataDirectory: URL
    let grpcListen: String?
    let socket: String?
    let httpListen: String?
    let etcdEndpoints: String?
    let logger: Logger

    func run() async throws {
        let config = try overridden(try configPath.map { try JacoConfig.load(path: $0) } ?? JacoConfig.parse(JacoConfig.embeddedDefault, source: "<built-in default>"))
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw JacoError(.configInvalid, "cannot create the data directory '\(dataDirectory.path)': \(error.localizedDescription)")
        }
        if config.listeners.isEmpty { throw JacoError(.configInvalid, "\(config.source): no [[listeners]]; jacod would serve nothing") }
        let kernel = try await Runtime.startKernel(config, dataDirectory: dataDirectory)
        let tls: TLSFiles
        let listeners: [any KernelTransport]
        let context: PluginContext
        do {
            // On a store other daemons share, the cluster CA comes from the store.
            let (files, generated) = kernel.storage is any ReachabilityReporting
                ? try await TLSSetup.resolveShared(config, dataDirectory: dataDirectory, kernel: kernel)
                : try TLSSetup.resolve(config, dataDirectory: dataDirectory)
            if generated { logger.info("created TLS material", metadata: ["dir": "\(files.caCertificate.deletingLastPathComponent().path)"]) }
            tls = files
            context = PluginContext(dataDirectory: dataDirectory, tls: tls, daemon: try Runtime.daemonInfo(config))
            listeners = try Runtime.makeListeners(config, context: context)
        } catch {
            try? await kernel.shutdown()
            throw error
        }
        logger.info("store open", metadata: ["engine": "\(context.daemon!.storageEngine)", "index": "\(kernel.cache.appliedIndex)", "data-dir": "\(dataDirectory.path)"])
        logger.info("clients pin this CA certificate", metadata: ["ca.crt": "\(tls.caCertificate.path)"])

        let announcer = Announcer(caCertificate: tls.caCertificate.path, expected: listeners.count, logger: logger)
        var services: [any Service] = [KernelService(kernel: kernel, logger: logger)]
        for listener in listeners {
            services.append(ListenerService(transport: listener, kernel: kernel, logger: logger, announcer: announcer))
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// The config with the command line's listener overrides applied.
    private func overridden(_ config: JacoConfig) throws -> JacoConfig {
        var config = config
        if let etcdEndpoints {
            guard try config.section("storage").string("engine", default: "") == "etcd" else {
                throw JacoError(.configInvalid, "--etcd-endpoints needs a config whose [storage] engine is \"etcd\" (e.g. Configs/etcd.toml)")
            }
            config = config.replacingStorageValue("endpoints", with: .array(etcdEndpoints.split(separator: ",").map { .string(String($0).trimmingCharacters(in: .whitespaces)) }))
        }
        var listeners = config.listeners
        if let grpcListen {
            listeners.removeAll { $0["kind"] == .string("grpc") }
            listeners.append(["kind": .string("grpc"), "address": .string(grpcListen)])
        }
        if let httpListen {
            listeners.removeAll { $0["kind"] == .string("consul-http") }
            listeners.append(["kind": .string("consul-http"), "address": .string(httpListen)])
        }
        if let socket {
            listeners.removeAll { $0["kind"] == .string("grpc-unix") }
            // A path on the command line is from the current directory, as a shell user means
            // it (the config's own paths are from the data directory).
            listeners.append(["kind": .string("grpc-unix"), "path": .string(URL(fileURLWithPath: socket).standardizedFileURL.path)])
        }
        return config.replacingListeners(listeners)
    }
}

/// Owns the kernel: started before the listeners, closed after they drained.
struct KernelService: Service {
    let kernel: Kernel
    let logger: Logger

    func run() async throws {
        try await gracefulShutdown()
        try await kernel.shutdown()
        logger.info("store closed")
    }
}

/// Runs one listener until shutdown, when it stops accepting calls and drains in-flight ones.
struct ListenerService: Service {
    let transport: any KernelTransport
    let kernel: Kernel
    let logger: Logger
    let announcer: Announcer

    func run() async throws {
        logger.info("starting listener", metadata: ["endpoint": "\(transport.endpointDescription)"])
        try await cancelWhenGracefulShutdown {
            try await transport.serve(kernel) { address in
                logger.info("listening", metadata: ["address": "\(address)"])
                announcer.listening(address)
            }
        }
    }
}
