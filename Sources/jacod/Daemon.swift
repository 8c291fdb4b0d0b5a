import Foundation
import JacoKernel
import JacoRuntime
import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Assembles the daemon from its config and runs it until SIGTERM or SIGINT.
struct Daemon {
    let configPath: String?
    let dataDirectory: URL
    let grpcListen: String?
    let socket: String?
    let httpListen: String?
    let etcdEndpoints: String?
    let metricsListen: String?
    let logger: Logger

    func run() async throws {
        let config = try overridden(try configPath.map { try JacoConfig.load(path: $0) } ?? JacoConfig.parse(JacoConfig.embeddedDefault, source: "<built-in default>"))
        if config.listeners.isEmpty { throw JacoError(.configInvalid, "\(config.source): no [[listeners]]; jacod would serve nothing") }
        // Everything that can be checked is checked before anything is created or opened.
        try checkListenAddresses(config)
        let allowShared = try config.section("storage").bool(Runtime.allowSharedPermissionsKey, default: false)
        try prepareDataDirectory()
        try checkPrivate(dataDirectory, fix: "chmod 700", allowShared: allowShared)
        _ = try TLSSetup.negotiation(config)
        if try TLSSetup.namesFiles(config) { _ = try TLSSetup.resolve(config, dataDirectory: dataDirectory) }  // checks them
        let exporter = Runtime.makeMetricsExporter()
        let kernel = try await Runtime.startKernel(config, dataDirectory: dataDirectory, metrics: exporter)
        let tls: TLSFiles
        let maintenance: CertificateMaintenance
        let listeners: [any KernelTransport]
        let context: PluginContext
        let initialized: Bool
        do {
            // On a store other daemons share, the cluster CA comes from the store.
            let (files, generated) = kernel.storage is any ReachabilityReporting
                ? try await TLSSetup.resolveShared(config, dataDirectory: dataDirectory, kernel: kernel)
                : try TLSSetup.resolve(config, dataDirectory: dataDirectory)
            if generated { logger.info("created TLS material", metadata: ["dir": "\(files.caCertificate.deletingLastPathComponent().path)"]) }
            tls = files
            let certificates = try TLSSetup.certificates(config, files: files, dataDirectory: dataDirectory)
            maintenance = CertificateMaintenance(certificates: certificates, logger: logger)
            maintenance.checkLifetimes()  // renews a server certificate that is due before it is served
            context = PluginContext(
                dataDirectory: dataDirectory, tls: try TLSSetup.settings(config, files: tls), daemon: try Runtime.daemonInfo(config), metrics: exporter,
                certificates: certificates)
            listeners = try Runtime.makeListeners(config, context: context)
            initialized = try await kernel.tokens.isInitialized()
        } catch {
            try? await kernel.shutdown()
            throw error
        }
        do {
            try checkPrivate(tls.privateKey, fix: "chmod 600", allowShared: allowShared)
        } catch {
            try? await kernel.shutdown()
            throw error
        }
        logger.info("store open", metadata: [
            "engine": "\(context.daemon!.storageEngine)", "index": "\(kernel.cache.appliedIndex)", "data-dir": "\(dataDirectory.path)",
            "hashing": "\((try? Runtime.hashingDescription(config)) ?? context.daemon!.hashingAlgorithm)",
        ])
        logger.info("clients pin this CA certificate", metadata: ["ca.crt": "\(tls.caCertificate.path)"])

        let announcer = Announcer(caCertificate: tls.caCertificate.path, expected: listeners.count, initialized: initialized)
        let census = ConnectionCensus()
        kernel.metrics.onRefresh { metrics in
            for (listener, connections) in census.count() { metrics.setOpenConnections(connections, listener: listener) }
        }
        var services: [any Service] = [KernelService(kernel: kernel, logger: logger), maintenance]
        for listener in listeners {
            services.append(ListenerService(transport: listener, kernel: kernel, logger: logger, announcer: announcer, census: census))
        }
        var configuration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.drainLimit
        try await ServiceGroup(configuration: configuration).run()
    }

    /// How long a shutdown lets in-flight calls finish before it cancels them and closes the
    /// store: a call stuck on an unresponsive store does not hold the daemon up.
    static let drainLimit = Duration.seconds(10)

    /// Fails naming the listener, the address and how to move it when an address is taken.
    private func checkListenAddresses(_ config: JacoConfig) throws {
        for listener in try Runtime.listenAddresses(config, dataDirectory: dataDirectory) {
            if let problem = ListenProbe.problem(with: listener.address) {
                throw JacoError(.listenFailed, "the \(listener.kind) listener cannot listen on \(listener.address): \(problem); \(moveHint(listener.kind, config.source))")
            }
        }
    }

    /// How to move a listener of `kind`: its flag and, when the listener came from a config
    /// file rather than a flag, its `[[listeners]]` entry there.
    private func moveHint(_ kind: String, _ source: String) -> String {
        let key = kind == "grpc-unix" ? "path" : "address"
        let entry = "the [[listeners]] entry with kind = \"\(kind)\" (its '\(key)') in \(source)"
        guard let (usage, value) = listenerFlag(kind) else { return "change \(entry)" }
        if value != nil || source.hasPrefix("<") { return "move it with \(usage)" }
        return "move it with \(usage), or change \(entry)"
    }

    /// The flag that replaces listeners of `kind`, and its value on this command line.
    private func listenerFlag(_ kind: String) -> (usage: String, value: String?)? {
        switch kind {
        case "grpc": ("--grpc-listen host:port", grpcListen)
        case "grpc-unix": ("--socket <path>", socket)
        case "consul-http": ("--http-listen host:port", httpListen)
        case "metrics": ("--metrics-listen host:port", metricsListen)
        default: nil
        }
    }

    /// Refuses `path` when users other than its owner may read or write it (the data directory
    /// holds token digests and the audit trail; a key is a key), naming the `chmod` that fixes
    /// it; with `allow_shared_permissions` it only warns.
    private func checkPrivate(_ url: URL, fix: String, allowShared: Bool) throws {
        let mode = (try? FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? 0
        guard mode & 0o077 != 0 else { return }
        let problem = "'\(url.path)' can be read or written by other users (mode \(String(mode & 0o777, radix: 8)))"
        if allowShared {
            logger.warning("\(problem); running anyway: [storage] \(Runtime.allowSharedPermissionsKey) = true")
            return
        }
        throw JacoError(.configInvalid, "\(problem); run '\(fix) \(url.path)', or set [storage] \(Runtime.allowSharedPermissionsKey) = true to accept it")
    }

    /// Creates the data directory and proves it writable, naming it when either fails.
    private func prepareDataDirectory() throws {
        let path = dataDirectory.path
        do {
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw JacoError(.configInvalid, "cannot create the data directory '\(path)': \(Self.reason(error)); choose another with --data-dir")
        }
        let probe = dataDirectory.appendingPathComponent(".jacod-write-check")
        guard FileManager.default.createFile(atPath: probe.path, contents: Data()) else {
            throw JacoError(.configInvalid, "the data directory '\(path)' is not writable by this user; fix its permissions or choose another with --data-dir")
        }
        try? FileManager.default.removeItem(at: probe)
    }

    private static func reason(_ error: any Error) -> String {
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let underlying, underlying.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(underlying.code))) }
        return error.localizedDescription
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
        // A flag moves the listener of its kind; the entry's other keys (verify_incoming,
        // plaintext, mode, ...) stay as the config has them.
        func move(_ kind: String, _ key: String, to value: String?) {
            guard let value else { return }
            var entry = listeners.first { $0["kind"] == .string(kind) } ?? ["kind": .string(kind)]
            entry[key] = .string(value)
            listeners.removeAll { $0["kind"] == .string(kind) }
            listeners.append(entry)
        }
        move("grpc", "address", to: grpcListen)
        move("consul-http", "address", to: httpListen)
        move("metrics", "address", to: metricsListen)
        // A path on the command line is from the current directory, as a shell user means it
        // (the config's own paths are from the data directory).
        move("grpc-unix", "path", to: socket.map { URL(fileURLWithPath: $0).standardizedFileURL.path })
        return config.replacingListeners(listeners)
    }
}

/// Owns the kernel: started before the listeners, closed after they drained.
struct KernelService: Service {
    let kernel: Kernel
    let logger: Logger

    func run() async throws {
        // Returns on shutdown, or with an error when calls outlived the drain limit and the
        // group cancels its services: the store is closed either way.
        try? await gracefulShutdown()
        try await kernel.shutdown()
        logger.info("store closed")
    }
}

/// Runs one listener until shutdown, when it stops accepting calls and drains in-flight ones.
/// A listener that fails before it listens is named with its address and how to move it.
struct ListenerService: Service {
    let transport: any KernelTransport
    let kernel: Kernel
    let logger: Logger
    let announcer: Announcer
    let census: ConnectionCensus

    func run() async throws {
        logger.info("starting listener", metadata: ["endpoint": "\(transport.endpointDescription)"])
        let listening = Atomic<Bool>(false)
        do {
            try await cancelWhenGracefulShutdown {
                try await transport.serve(kernel) { address in
                    listening.store(true, ordering: .relaxed)
                    logger.info("listening", metadata: ["address": "\(address)"])
                    announcer.listening(address)
                    census.add(address)
                }
            }
        } catch let error as JacoError {
            throw error
        } catch where !listening.load(ordering: .relaxed) {
            throw JacoError(.listenFailed, "the listener \(transport.endpointDescription) could not start: \(error)")
        }
    }
}
