// swift-tools-version:6.2
import PackageDescription

let package = Package(
    name: "Jaco",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "JacoKernel", targets: ["JacoKernel"]),
        .library(name: "JacoRuntime", targets: ["JacoRuntime"]),
        /// For other projects' tests: the memory store, the store conformance suite and an
        /// in-process harness that runs the kernel on the memory store.
        .library(name: "JacoTestKit", targets: ["JacoTestKit", "MemoryStore"]),
        .executable(name: "jaco-bench", targets: ["jaco-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
    ],
    targets: [
        // The kernel: protocols and domain logic. Depends on no plugin.
        .target(name: "JacoKernel"),

        // Plugins: each depends on the kernel and its own engine only.
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

        // The composition root: config file -> plugin instances, shared by daemon and CLI.
        .target(
            name: "JacoRuntime",
            dependencies: ["JacoKernel", "MemoryStore", "SQLiteStore", "LMDBStore", "SHA256Hasher", "TOMLKit"]),

        // Test kit for other projects' harnesses.
        .target(name: "JacoTestKit", dependencies: ["JacoKernel", "MemoryStore", "SHA256Hasher"]),

        // Tools: the benchmark and the child process of the crash tests.
        .executableTarget(
            name: "jaco-bench",
            dependencies: ["JacoRuntime", "JacoKernel", "SHA256Hasher", .product(name: "Crypto", package: "swift-crypto")],
            path: "Benchmarks/jaco-bench"),
        .executableTarget(name: "jaco-crash-writer", dependencies: ["JacoRuntime", "JacoKernel"], path: "Tools/jaco-crash-writer"),

        // Tests.
        .testTarget(name: "StoreConformanceTests", dependencies: ["JacoTestKit", "JacoRuntime", "JacoKernel"]),
        .testTarget(name: "JacoKernelTests", dependencies: ["JacoTestKit", "JacoKernel", "MemoryStore"]),
        .testTarget(name: "SHA256HasherTests", dependencies: ["SHA256Hasher", "JacoKernel"]),
        .testTarget(name: "JacoRuntimeTests", dependencies: ["JacoRuntime", "JacoKernel"]),
    ]
)

// One loop applies the same strict settings to every Swift target.
for target in package.targets where target.type != .system {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .swiftLanguageMode(.v6),
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
        .treatAllWarnings(as: .error),
    ]
}
