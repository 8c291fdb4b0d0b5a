#!/usr/bin/env bash
# Regenerates the Swift code for Protos/jaco and Protos/grpc (the standard health service) into
# Plugins/GRPCTransport/Generated (public) and
# for etcd's own v3 API files (rpc.proto, kv.proto, auth.proto, as Debian's etcd 3.4 source
# package ships them, with the gogoproto and google.api files they import) into
# Plugins/EtcdStore/Generated (internal to the etcd store).
# Needs protoc (Debian: protobuf-compiler) and apt-get (to download those source packages; no
# install). Builds protoc-gen-swift and protoc-gen-grpc-swift-2
# from the mirrored packages first (release; ~10 minutes the first time, cached afterwards).
# The build and CI never run this: the generated code is committed.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "protoc not found: apt-get install -y protobuf-compiler" >&2; exit 1; }
tools=Tools/protoc-plugins
swift build -c release --package-path "$tools" --product protoc-gen-swift
swift build -c release --package-path "$tools" --product protoc-gen-grpc-swift-2
bin=$(swift build -c release --package-path "$tools" --show-bin-path)

generate() {  # <output dir> <visibility> <protoc include and file arguments...>
  local output=$1 visibility=$2
  shift 2
  rm -rf "$output" && mkdir -p "$output"
  protoc \
    --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
    --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
    --swift_opt=Visibility="$visibility" --swift_out="$output" \
    --grpc-swift-2_opt=Visibility="$visibility" --grpc-swift-2_out="$output" \
    "$@"
  # Files without services get an empty .grpc.swift: drop those.
  find "$output" -name '*.grpc.swift' -exec grep -L 'struct Client' {} + | xargs -r rm
}
out=Plugins/GRPCTransport/Generated
generate "$out" Public --proto_path=Protos $(cd Protos && find jaco grpc -name '*.proto' | sort)

# etcd's own .proto files, from Debian's source packages (etcd 3.4.23 in Debian 12).
sources=$(mktemp -d)
trap 'rm -rf "$sources"' EXIT
(cd "$sources" && apt-get download golang-etcd-server-dev golang-github-gogo-protobuf-dev golang-github-gogo-googleapis-dev >/dev/null)
for deb in "$sources"/*.deb; do dpkg -x "$deb" "$sources/tree"; done
src="$sources/tree/usr/share/gocode/src"
generate Plugins/EtcdStore/Generated Internal \
  -I "$src/go.etcd.io" -I "$src/github.com/gogo/protobuf" -I "$src/github.com/gogo/googleapis" -I /usr/include \
  etcd/etcdserver/etcdserverpb/rpc.proto etcd/mvcc/mvccpb/kv.proto etcd/auth/authpb/auth.proto
# An RPC named Init becomes a Swift method named `init`, which must be escaped.
find "$out" -name '*.grpc.swift' -exec sed -i -e 's/func init\([(<]\)/func `init`\1/g' -e 's/self\.init(/self.`init`(/g' {} +
# What the generated code was made from: a test (ProtoDriftTests) fails when a .proto changes
# without this script being run again.
(cd Protos && find jaco grpc -name '*.proto' | sort | xargs sha256sum) > "$out/PROTO-SHA256SUMS"
echo "generated:"
find "$out" Plugins/EtcdStore/Generated -name '*.swift' | sort
