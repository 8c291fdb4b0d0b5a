// swift-tools-version:6.1
// Builds the two protoc plugins that generate Jaco's gRPC code. Not part of the main build:
// scripts/generate-protos.sh builds it (in release, ~10 minutes the first time) and runs protoc.
import PackageDescription

let package = Package(
    name: "protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", exact: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf.git", exact: "2.4.1"),
    ],
    targets: [
        // A placeholder target: the products wanted are the dependencies' own executables.
        .executableTarget(name: "plugins-placeholder", path: "Sources"),
    ]
)
