#!/usr/bin/env bash
# Regenerates the Swift code for Protos/jaco into Plugins/GRPCTransport/Generated (public) and
# for Protos/etcd into Plugins/EtcdStore/Generated (internal to the etcd store).
# Needs protoc (Debian: protobuf-compiler). Builds protoc-gen-swift and protoc-gen-grpc-swift-2
# from the mirrored packages first (release; ~10 minutes the first time, cached afterwards).
# The build and CI never run this: the generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
tools=Tools/protoc-plugins
swift build -c release --package-path "$tools" --product protoc-gen-swift
swift build -c release --package-path "$tools" --product protoc-gen-grpc-swift-2
bin=$(swift build -c release --package-path "$tools" --show-bin-path)

generate() {  # <directory under Protos> <output dir> <visibility>
  rm -rf "$2" && mkdir -p "$2"
  protoc --proto_path=Protos \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_opt=Visibility="$3" --swift_out="$2" \
    --grpc-swift-2_opt=Visibility="$3" --grpc-swift-2_out="$2" \
    $(cd Protos && find "$1" -name '*.proto' | sort)
}
out=Plugins/GRPCTransport/Generated
generate jaco "$out" Public
generate etcd Plugins/EtcdStore/Generated Internal
# An RPC named Init becomes a Swift method named `init`, which must be escaped.
find "$out" -name '*.grpc.swift' -exec sed -i -e 's/func init\([(<]\)/func `init`\1/g' -e 's/self\.init(/self.`init`(/g' {} +
echo "generated:"
find "$out" Plugins/EtcdStore/Generated -name '*.swift' | sort
