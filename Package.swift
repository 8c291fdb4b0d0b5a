// swift-tools-version:6.2
import PackageDescription

// `JACO_FUZZ=1 swift build --scratch-path .build-fuzz` (scripts/fuzz.sh): the parsers' modules
// and jaco-fuzz are built with libFuzzer's coverage and AddressSanitizer, and jaco-fuzz is a
// libFuzzer binary. Dependencies are built as usual.
let fuzzing = Context.environment["JACO_FUZZ"] == "1"
let fuzzedTargets: Set<String> = ["JacoKernel", "JacoConfigFile", "ConsulHTTPTransport", "ComposeAdmission", "JWTAuthMethod", "jaco-fuzz"]
let fuzzSettings: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"]), .define("JACO_FUZZING")]

let package = Package(
    name: "Jaco",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JacoKernel", targets: ["JacoKernel"]),
        .library(name: "JacoRuntime", targets: ["JacoRuntime"]),
        /// For other projects' tests: the memory store, the store conformance suite and an
        /// in-process harness that runs the kernel on the memory store.
        .library(name: "JacoTestKit", targets: ["JacoTestKit", "MemoryStore"]),
        .executable(name: "jacod", targets: ["jacod"]),
        .executable(name: "jaco", targets: ["jaco"]),
        .executable(name: "jaco-bench", targets: ["jaco-bench"]),
        .executable(name: "jaco-fuzz", targets: ["jaco-fuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Without its default traits: no swift-configuration bridge, no full Foundation.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
    ],
    targets: [
        // The kernel: protocols and domain logic. Depends on no plugin; records metrics through
        // swift-metrics' API only (as it logs through swift-log's).
        .target(name: "JacoKernel", dependencies: ["CJacoLock", .product(name: "CoreMetrics", package: "swift-metrics")]),
        // The verification cache's lock (C11 atomics and a futex; see its header).
        .target(name: "CJacoLock"),

        // The kernel's TLS settings as NIOSSL configurations: the one place that every TLS
        // listener and client plugin takes its version floor, suites and certificates from.
        .target(
            name: "JacoNIOSSL",
            dependencies: [
                "JacoKernel", .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
            ]),

        // Plugins: each depends on the kernel (and its TLS adapter) and its own engine only.
        .target(name: "MemoryStore", dependencies: ["JacoKernel"], path: "Plugins/MemoryStore"),
        .systemLibrary(name: "CSQLite", path: "Plugins/SQLiteStore/CSQLite", providers: [.apt(["libsqlite3-dev"])]),
        .target(
            name: "SQLiteStore", dependencies: ["JacoKernel", "CSQLite"],
            path: "Plugins/SQLiteStore", exclude: ["CSQLite"]),
        .systemLibrary(name: "CLMDB", path: "Plugins/LMDBStore/CLMDB", providers: [.apt(["liblmdb-dev"])]),
        .target(
            name: "LMDBStore", dependencies: ["JacoKernel", "CLMDB"],
            path: "Plugins/LMDBStore", exclude: ["CLMDB"]),
        .target(
            name: "SHA256Hasher",
            dependencies: ["JacoKernel", .product(name: "Crypto", package: "swift-crypto")],
            path: "Plugins/SHA256Hasher"),

        .target(
            name: "PrometheusMetrics",
            dependencies: [
                "JacoKernel", .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Plugins/PrometheusMetrics"),
        .target(name: "ComposeAdmission", dependencies: ["JacoKernel", "Yams"], path: "Plugins/ComposeAdmission"),
        .target(
            name: "ClusterTLS",
            dependencies: [
                "JacoKernel", .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Plugins/ClusterTLS"),
        .target(
            name: "GRPCTransport",
            dependencies: [
                "JacoKernel", "JacoNIOSSL", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Plugins/GRPCTransport", exclude: ["Generated/PROTO-SHA256SUMS"]),
        .target(name: "CJacoOpenSSL", path: "Plugins/OpenSSLHasher/CJacoOpenSSL", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "OpenSSLHasher", dependencies: ["JacoKernel", "CJacoOpenSSL"], path: "Plugins/OpenSSLHasher", exclude: ["CJacoOpenSSL"]),
        .target(
            name: "EtcdStore",
            dependencies: [
                "JacoKernel", "JacoNIOSSL", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Plugins/EtcdStore"),
        .target(
            name: "JWTAuthMethod",
            dependencies: [
                "JacoKernel", .product(name: "JWTKit", package: "jwt-kit"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Plugins/JWTAuthMethod"),
        .target(
            name: "ConsulHTTPTransport",
            dependencies: [
                "JacoKernel", "JacoNIOSSL", .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
            ],
            path: "Plugins/ConsulHTTPTransport"),

        // The config file (TOML, read by Jaco's own parser) into sections: its own target so the
        // fuzzer builds it alone.
        .target(name: "JacoConfigFile", dependencies: ["JacoKernel"]),

        // The composition root: config file -> plugin instances, shared by daemon and CLI.
        .target(
            name: "JacoRuntime",
            dependencies: [
                "JacoKernel", "JacoConfigFile", "JacoNIOSSL", "MemoryStore", "SQLiteStore", "LMDBStore", "EtcdStore", "SHA256Hasher", "OpenSSLHasher", "ClusterTLS", "GRPCTransport", "ConsulHTTPTransport",
                "ComposeAdmission", "PrometheusMetrics", "JWTAuthMethod",
            ]),

        // The daemon and the CLI.
        .executableTarget(
            name: "jacod",
            dependencies: [
                "JacoRuntime", "JacoKernel", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Logging", package: "swift-log"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]),
        .executableTarget(
            name: "jaco",
            dependencies: [
                "JacoRuntime", "JacoKernel", "GRPCTransport", "ComposeAdmission", "ClusterTLS",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // Test kit for other projects' harnesses.
        .target(
            name: "JacoTestKit",
            dependencies: ["JacoKernel", "MemoryStore", "SHA256Hasher", "ClusterTLS"]),

        // Tools: the benchmark and the child process of the crash tests.
        .executableTarget(
            name: "jaco-bench",
            dependencies: [
                "JacoRuntime", "JacoKernel", "JacoTestKit", "SHA256Hasher", "OpenSSLHasher", "GRPCTransport", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"), .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Benchmarks/jaco-bench"),
        .executableTarget(name: "jaco-crash-writer", dependencies: ["JacoRuntime", "JacoKernel"], path: "Tools/jaco-crash-writer"),

        // Tests.
        .testTarget(name: "StoreConformanceTests", dependencies: ["JacoTestKit", "JacoRuntime", "JacoKernel"]),
        .testTarget(name: "JacoKernelTests", dependencies: ["JacoTestKit", "JacoKernel", "MemoryStore"]),
        .testTarget(name: "SHA256HasherTests", dependencies: ["SHA256Hasher", "OpenSSLHasher", "JacoKernel"]),
        .testTarget(name: "JacoRuntimeTests", dependencies: ["JacoRuntime", "JacoKernel", "JacoTestKit"]),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "JacoKernel", "JacoTestKit", "GRPCTransport", "ClusterTLS", .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"), .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "JWTKit", package: "jwt-kit"), .product(name: "CryptoExtras", package: "swift-crypto"),
            ]),
        // libFuzzer targets for every parser of outside bytes (scripts/fuzz.sh). A normal build
        // makes a replayer that runs inputs through the same targets (FuzzCorpusTests).
        .executableTarget(
            name: "jaco-fuzz", dependencies: ["JacoKernel", "JacoConfigFile", "ConsulHTTPTransport", "ComposeAdmission", "JWTAuthMethod"], path: "Fuzz/JacoFuzz",
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []),
        .testTarget(name: "ComposeAdmissionTests", dependencies: ["ComposeAdmission", "JacoKernel", "JacoTestKit"]),
        .testTarget(name: "JWTAuthMethodTests", dependencies: ["JWTAuthMethod", "JacoKernel"]),
        .testTarget(name: "ConsulHTTPTransportTests", dependencies: ["ConsulHTTPTransport", "JacoKernel"]),
        .testTarget(name: "EtcdStoreTests", dependencies: ["EtcdStore", "JacoKernel", "JacoRuntime", "JacoTestKit"]),
    ]
)

// One loop applies the same strict settings to every Swift target.
for target in package.targets where target.type != .system {
    let instrumented = fuzzing && fuzzedTargets.contains(target.name)
    target.swiftSettings = (target.swiftSettings ?? []) + (instrumented ? fuzzSettings : []) + [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .treatAllWarnings(as: .error),
    ]
}
