import Foundation
import JacoKernel
import JacoRuntime
import Testing

/// The repository's root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func temporaryDirectory(_ label: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("jaco-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// The config error from starting a kernel on `text`.
func startError(_ text: String, in directory: URL? = nil) async throws -> JacoError? {
    let dir = try directory ?? temporaryDirectory("config")
    do {
        let kernel = try await Runtime.startKernel(try JacoConfig.parse(text, source: "jaco.toml"), dataDirectory: dir)
        try await kernel.shutdown()
        return nil
    } catch let error as JacoError {
        return error
    }
}

@Suite("Config")
struct ConfigTests {
    @Test("Every shipped config starts a kernel that issues and verifies", arguments: ["memory.toml", "sqlite.toml", "lmdb.toml"])
    func shippedConfigs(file: String) async throws {
        let dir = try temporaryDirectory("shipped")
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = try JacoConfig.load(path: repositoryRoot.appendingPathComponent("Configs/\(file)").path)
        let kernel = try await Runtime.startKernel(config, dataDirectory: dir)
        let bootstrap = try await kernel.tokens.bootstrap()
        let op = try kernel.tokens.verify(secret: bootstrap.secret)
        let issued = try await kernel.tokens.issue(identity: "alice", by: op)
        #expect(try kernel.tokens.verify(secret: issued.secret).identity == "alice")
        try await kernel.shutdown()
    }

    @Test("The embedded default config is valid and uses SQLite")
    func embeddedDefault() throws {
        let config = try JacoConfig.parse(JacoConfig.embeddedDefault, source: "<built-in>")
        #expect(try config.section("storage").string("engine", default: "") == "sqlite")
    }

    @Test("An unknown engine is named, with the valid ones")
    func unknownEngine() async throws {
        let error = try await startError("[storage]\nengine = \"rocksdb\"\n")
        #expect(error?.code == .configInvalid)
        #expect(error?.message == "jaco.toml: [storage] unknown storage engine 'rocksdb' (valid: memory, sqlite, lmdb, etcd)")
    }

    @Test("An unknown algorithm is named, with the valid ones")
    func unknownAlgorithm() async throws {
        let error = try await startError("[hashing]\nalgorithm = \"md5\"\n")
        #expect(error?.message == "jaco.toml: [hashing] unknown hashing algorithm 'md5' (valid: sha256, hmac-sha256)")
    }

    @Test("[hashing] provider picks the implementation: openssl gives swift-crypto's digests; a provider without the algorithm is named")
    func hashingProvider() throws {
        let dir = try temporaryDirectory("provider")
        defer { try? FileManager.default.removeItem(at: dir) }
        let openssl = try Runtime.makeHasher(try JacoConfig.parse("[hashing]\nalgorithm = \"sha256\"\nprovider = \"openssl\"\n", source: "jaco.toml"), dataDirectory: dir)
        let swiftCrypto = try Runtime.makeHasher(try JacoConfig.parse("[hashing]\nprovider = \"swift-crypto\"\n", source: "jaco.toml"), dataDirectory: dir)
        #expect(openssl.digest(ofSecret: "jaco") == swiftCrypto.digest(ofSecret: "jaco"))
        #expect(String(describing: type(of: openssl)) != String(describing: type(of: swiftCrypto)))
        let hmac = #expect(throws: JacoError.self) {
            _ = try Runtime.makeHasher(try JacoConfig.parse("[hashing]\nalgorithm = \"hmac-sha256\"\nprovider = \"openssl\"\n", source: "jaco.toml"), dataDirectory: dir)
        }
        #expect(hmac?.message == "jaco.toml: [hashing] hashing provider 'openssl' does not offer 'hmac-sha256' (providers of 'hmac-sha256': swift-crypto)")
        let unknown = #expect(throws: JacoError.self) {
            _ = try Runtime.makeHasher(try JacoConfig.parse("[hashing]\nprovider = \"gcrypt\"\n", source: "jaco.toml"), dataDirectory: dir)
        }
        #expect(unknown?.message == "jaco.toml: [hashing] hashing provider 'gcrypt' does not offer 'sha256' (providers of 'sha256': swift-crypto, openssl)")
    }

    @Test("An unknown key is named, with the engine's valid keys")
    func unknownKey() async throws {
        let error = try await startError("[storage]\nengine = \"sqlite\"\nsynchronus = \"full\"\n")
        #expect(error?.message == "jaco.toml: [storage] unknown key 'synchronus' (valid: engine, allow_shared_permissions, path, synchronous, retain_changes, busy_timeout_ms, wal_autocheckpoint)")
    }

    @Test("An unknown section is named, with the valid ones")
    func unknownSection() throws {
        let error = #expect(throws: JacoError.self) { _ = try JacoConfig.parse("[strage]\nengine = \"memory\"\n", source: "jaco.toml") }
        #expect(error?.message == "jaco.toml: unknown section '[strage]' (valid: storage, hashing, admission, tokens, tls, listeners, client)")
    }

    @Test("A wrong type or value names the key", arguments: [
        ("[storage]\nengine = 3\n", "'engine' must be a string, not an integer"),
        ("[storage]\nengine = \"sqlite\"\nsynchronous = \"sometimes\"\n", "'synchronous' is 'sometimes' (valid: off, normal, full, extra)"),
        ("[storage]\nengine = \"lmdb\"\nmap_size = \"lots\"\n", "'map_size' is 'lots'"),
        ("[storage]\nengine = \"lmdb\"\nmap_size = 10\n", "'map_size' is 10 bytes; it must be between"),
        ("[hashing]\nalgorithm = \"hmac-sha256\"\n", "'key_file' is required"),
    ])
    func badValues(text: String, expected: String) async throws {
        let error = try await startError(text)
        #expect(error?.code == .configInvalid)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }

    @Test("Invalid TOML is reported with its line")
    func badTOML() {
        let error = #expect(throws: JacoError.self) { _ = try JacoConfig.parse("[storage]\nengine = \n", source: "jaco.toml") }
        #expect(error?.message.hasPrefix("jaco.toml:2:") == true, "\(String(describing: error))")
    }

    @Test("A missing config file is named")
    func missingFile() {
        let error = #expect(throws: JacoError.self) { _ = try JacoConfig.load(path: "/nonexistent/jaco.toml") }
        #expect(error?.message == "cannot read the config file '/nonexistent/jaco.toml': no such file")
    }

    @Test("An unreadable HMAC key file is named")
    func missingKeyFile() async throws {
        let error = try await startError("[hashing]\nalgorithm = \"hmac-sha256\"\nkey_file = \"/nonexistent/key\"\n")
        #expect(error?.message.contains("'/nonexistent/key'") == true, "\(String(describing: error))")
    }

    @Test("hmac-sha256 with a key file starts, and its digests differ from sha256's")
    func hmacFromFile() async throws {
        let dir = try temporaryDirectory("hmac")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data(repeating: 0x42, count: 32).write(to: dir.appendingPathComponent("hmac.key"))
        let config = try JacoConfig.parse("[storage]\nengine = \"memory\"\n[hashing]\nalgorithm = \"hmac-sha256\"\nkey_file = \"hmac.key\"\n", source: "t")
        let kernel = try await Runtime.startKernel(config, dataDirectory: dir)
        #expect(kernel.hasher.algorithm == "hmac-sha256")
        let op = try kernel.tokens.verify(secret: try await kernel.tokens.bootstrap().secret)
        #expect(op.identity == "bootstrap")
        try await kernel.shutdown()
    }
}

@Suite("Listener config")
struct ListenerConfigTests {
    static let tls = TLSSettings(files: TLSFiles(
        caCertificate: URL(fileURLWithPath: "/x/ca.crt"), certificateChain: URL(fileURLWithPath: "/x/server.crt"),
        privateKey: URL(fileURLWithPath: "/x/server.key")))

    func listenerError(_ entry: String) -> JacoError? {
        do {
            let config = try JacoConfig.parse("[[listeners]]\n\(entry)\n", source: "jaco.toml")
            _ = try Runtime.makeListeners(
                config, context: PluginContext(dataDirectory: URL(fileURLWithPath: "/tmp"), tls: Self.tls, metrics: Runtime.makeMetricsExporter()))
            return nil
        } catch let error as JacoError {
            return error
        } catch {
            return JacoError(.storageFailure, "\(error)")
        }
    }

    @Test("Plain HTTP for the Consul API is refused off loopback and allowed on it")
    func plainHTTPOnlyOnLoopback() {
        let refused = listenerError("kind = \"consul-http\"\naddress = \"10.0.0.5:8500\"\nplaintext = true")
        #expect(refused?.message.contains("plain HTTP is refused on '10.0.0.5:8500'") == true, "\(String(describing: refused))")
        #expect(listenerError("kind = \"consul-http\"\naddress = \"127.0.0.1:8500\"\nplaintext = true") == nil)
        #expect(listenerError("kind = \"consul-http\"\naddress = \"0.0.0.0:8501\"") == nil)
        #expect(listenerError("kind = \"consul-http\"")?.message.contains("'address' is required for a consul-http listener") == true)
    }

    @Test("Plain-HTTP metrics are refused off loopback; HTTPS metrics are allowed anywhere; the address has a default")
    func metricsListener() throws {
        let refused = listenerError("kind = \"metrics\"\naddress = \"0.0.0.0:9400\"")
        #expect(refused?.message.contains("plain-HTTP metrics are refused on '0.0.0.0:9400'") == true, "\(String(describing: refused))")
        #expect(listenerError("kind = \"metrics\"\naddress = \"0.0.0.0:9400\"\ntls = true") == nil)
        #expect(listenerError("kind = \"metrics\"") == nil)
        let config = try JacoConfig.parse("[[listeners]]\nkind = \"metrics\"\n", source: "jaco.toml")
        let addresses = try Runtime.listenAddresses(config, dataDirectory: URL(fileURLWithPath: "/tmp"))
        #expect(addresses.map(\.address) == [.tcp(host: "127.0.0.1", port: 9400)])
    }

    @Test("Plaintext gRPC is refused off loopback and allowed on it")
    func plaintextOnlyOnLoopback() {
        let refused = listenerError("kind = \"grpc\"\naddress = \"0.0.0.0:7400\"\nplaintext = true")
        #expect(refused?.message.contains("allowed only on a loopback address") == true, "\(String(describing: refused))")
        #expect(listenerError("kind = \"grpc\"\naddress = \"127.0.0.1:7400\"\nplaintext = true") == nil)
        #expect(listenerError("kind = \"grpc\"\naddress = \"0.0.0.0:7400\"") == nil)
    }

    @Test("Listener mistakes are named", arguments: [
        ("kind = \"http\"", "unknown listener kind 'http' (valid: grpc, grpc-unix, consul-http, metrics)"),
        ("address = \"127.0.0.1:1\"", "'kind' is required"),
        ("kind = \"grpc\"", "'address' is required"),
        ("kind = \"grpc\"\naddress = \"localhost\"", "is not host:port"),
        ("kind = \"grpc\"\naddress = \"127.0.0.1:7400\"\ntls = true", "unknown key 'tls'"),
        ("kind = \"grpc-unix\"\nmode = \"rw\"", "'mode' is 'rw'"),
        ("kind = \"grpc\"\naddress = \"127.0.0.1:7400\"\nplaintext = true\nverify_incoming = true", "'verify_incoming' and 'client_ca' need a TLS listener"),
        ("kind = \"metrics\"\nverify_incoming = true", "'verify_incoming' and 'client_ca' need a TLS listener"),
        ("kind = \"consul-http\"\naddress = \"127.0.0.1:8501\"\nclient_ca = \"ca.pem\"", "'client_ca' is set but 'verify_incoming' is not"),
        ("kind = \"grpc\"\naddress = \"127.0.0.1:7400\"\nverify_incoming = \"yes\"", "'verify_incoming' must be true or false"),
    ])
    func mistakes(entry: String, expected: String) {
        let error = listenerError(entry)
        #expect(error?.code == .configInvalid)
        #expect(error?.message.contains(expected) == true, "\(String(describing: error))")
    }
}

@Suite("TLS negotiation config")
struct TLSNegotiationConfigTests {
    func negotiation(_ body: String) throws -> (minimumVersion: TLSProtocolVersion, cipherSuites: [String]) {
        try TLSSetup.negotiation(JacoConfig.parse("[tls]\n\(body)\n", source: "jaco.toml"))
    }

    @Test("By default TLS starts at 1.2 with AEAD suites only; 1.3 and Consul's spelling are accepted")
    func defaults() throws {
        let defaults = try negotiation("")
        #expect(defaults.minimumVersion == .tls12)
        #expect(defaults.cipherSuites == TLSSettings.aeadCipherSuites)
        #expect(!defaults.cipherSuites.contains { $0.contains("CBC") || $0.hasSuffix("-SHA") })
        #expect(try negotiation("tls_min_version = \"1.3\"").minimumVersion == .tls13)
        #expect(try negotiation("tls_min_version = \"TLSv1_3\"").minimumVersion == .tls13)
        #expect(try negotiation("tls_cipher_suites = [\"ECDHE-ECDSA-AES128-GCM-SHA256\"]").cipherSuites == ["ECDHE-ECDSA-AES128-GCM-SHA256"])
        // Consul's (IANA) spelling becomes the TLS library's.
        #expect(try negotiation("tls_cipher_suites = [\"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256\"]").cipherSuites == ["ECDHE-RSA-CHACHA20-POLY1305"])
    }

    @Test("Old versions, unknown suites and wrong types are named", arguments: [
        ("tls_min_version = \"1.1\"", "'tls_min_version' is '1.1' (valid: \"1.2\", \"1.3\"; TLS 1.0 and 1.1 are not offered)"),
        ("tls_cipher_suites = [\"ECDHE-ECDSA-AES128-GCM-SHA256\", \"NOT-A-SUITE\"]", "unknown TLS 1.2 cipher suite 'NOT-A-SUITE'"),
        ("tls_cipher_suites = []", "the cipher suite list is empty"),
        ("tls_cipher_suites = \"ECDHE-ECDSA-AES128-GCM-SHA256\"", "'tls_cipher_suites' must be a list of strings"),
        ("min_version = \"1.2\"", "unknown key 'min_version'"),
    ])
    func mistakes(body: String, expected: String) {
        do {
            _ = try negotiation(body)
            Issue.record("accepted: \(body)")
        } catch let error as JacoError {
            #expect(error.code == .configInvalid)
            #expect(error.message.contains(expected), "\(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }
}

@Suite("Admission config")
struct AdmissionConfigTests {
    @Test("An unknown admission policy is named, with the valid ones")
    func unknownPolicy() async throws {
        let error = try await startError("[admission]\npolicies = [\"privileged\", \"sandbox\"]\n")
        #expect(error?.message == "jaco.toml: [admission] unknown admission policy 'sandbox' (valid: privileged)")
    }

    @Test("The default chain is the privileged gate; an empty list admits everything")
    func chains() throws {
        #expect(try Runtime.makeAdmission(JacoConfig.parse("", source: "t")).policies.map(\.name) == ["privileged"])
        #expect(try Runtime.makeAdmission(JacoConfig.parse("[admission]\npolicies = []\n", source: "t")).policies.isEmpty)
    }
}
