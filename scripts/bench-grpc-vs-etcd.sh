#!/usr/bin/env bash
# gRPC server cost against etcd's: h2load drives, in interleaved rounds of one run,
#   - jacod over TLS, authenticated   TokenService/ListTokens (bearer token: a verify, a list
#                                     of two tokens from the memory store)
#   - jacod over TLS, unauthenticated ClusterService/GetClusterStatus
#   - etcd over h2c, authenticated    KV/Range of one key, linearizable (auth token metadata)
# and prints calls per second and the ratio jacod-authenticated / etcd (issue 16's goal: >= 2).
#
#   scripts/bench-grpc-vs-etcd.sh [rounds=5] [seconds per round=5] [connections=16] [streams=8]
#
# Needs h2load (apt-get install nghttp2-client), etcd (apt-get install etcd-server), curl and
# python3; builds jacod in release mode. Each call kind is checked once with curl (grpc-status
# 0) before the rounds: h2load counts HTTP statuses, and gRPC errors travel in trailers.
set -euo pipefail
rounds=${1:-5}
seconds=${2:-5}
connections=${3:-16}
streams=${4:-8}
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
for tool in h2load etcd curl python3; do
  command -v "$tool" >/dev/null || { echo "bench-grpc-vs-etcd: '$tool' not found (h2load: apt-get install nghttp2-client; etcd: apt-get install etcd-server)" >&2; exit 1; }
done
build_release_jacod
dir=$(mktemp -d)
chmod 700 "$dir"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$dir"' EXIT

# jacod: memory store, gRPC over TLS, bootstrapped over the Consul API.
grpc=$(free_port); http=$(free_port)
mkdir -m 700 "$dir/jaco"
"$bin/jacod" --config Configs/memory.toml --data-dir "$dir/jaco" --grpc-listen "127.0.0.1:$grpc" --socket "$dir/jaco/jaco.sock" \
  --http-listen "127.0.0.1:$http" >"$dir/jacod.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "jacod is ready" "$dir/jacod.log" && break; sleep 0.1; done
secret=$(curl -s --cacert "$dir/jaco/tls/ca.crt" -X PUT "https://127.0.0.1:$http/v1/acl/bootstrap" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretID"])')

# etcd: one member, auth on (root user), one key to read.
client=$(free_port); peer=$(free_port)
etcd --name bench --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
  --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
  --initial-cluster "bench=http://127.0.0.1:$peer" >"$dir/etcd.log" 2>&1 &
pids+=($!)
gateway="http://127.0.0.1:$client/v3"
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$client/health" >/dev/null && break; sleep 0.1; done
post() { curl -sf -X POST "$gateway/$1" ${3:+-H "Authorization: $3"} -d "$2"; }
post auth/user/add '{"name":"root","password":"bench"}' >/dev/null
post auth/role/add '{"name":"root"}' >/dev/null
post auth/user/grant '{"user":"root","role":"root"}' >/dev/null
post auth/enable '{}' >/dev/null
etcd_token=$(post auth/authenticate '{"name":"root","password":"bench"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
post kv/put "{\"key\":\"$(printf bench | base64)\",\"value\":\"$(printf value | base64)\"}" "$etcd_token" >/dev/null

# gRPC request bodies: a 5-byte frame header (not compressed, length) and the message.
python3 - "$dir" <<'PY'
import struct, sys
def frame(message): return b"\0" + struct.pack(">I", len(message)) + message
d = sys.argv[1]
open(f"{d}/empty.grpc", "wb").write(frame(b""))
open(f"{d}/range.grpc", "wb").write(frame(b"\x0a\x05bench"))  # RangeRequest{key: "bench"}
PY

grpc_headers=(-H "content-type: application/grpc" -H "te: trailers")
jaco_list="https://127.0.0.1:$grpc/jaco.v1.TokenService/ListTokens"
jaco_status="https://127.0.0.1:$grpc/jaco.v1.ClusterService/GetClusterStatus"
etcd_range="http://127.0.0.1:$client/etcdserverpb.KV/Range"
check() {  # url, body, curl options...: fails unless the call answers grpc-status 0
  local url="$1" body="$2"; shift 2
  local status
  status=$(curl -s -v "$@" "${grpc_headers[@]}" --data-binary "@$body" -o /dev/null "$url" 2>&1 | tr -d '\r' | awk '/^< grpc-status:/ {print $3}')
  [ "$status" = "0" ] || { echo "bench-grpc-vs-etcd: $url answered grpc-status '${status:-none}'" >&2; exit 1; }
}
check "$jaco_list" "$dir/empty.grpc" --http2 --cacert "$dir/jaco/tls/ca.crt" -H "authorization: Bearer $secret"
check "$jaco_status" "$dir/empty.grpc" --http2 --cacert "$dir/jaco/tls/ca.crt"
check "$etcd_range" "$dir/range.grpc" --http2-prior-knowledge -H "token: $etcd_token"

rate() {  # h2load's calls per second
  h2load -D "$seconds" -c "$connections" -m "$streams" -t 1 "${grpc_headers[@]}" "$@" | awk '/^finished in/ {print $4}'
}
rate -d "$dir/empty.grpc" -H "authorization: Bearer $secret" "$jaco_list" >/dev/null  # warm-up
list=(); status=(); range=()
for i in $(seq "$rounds"); do
  list+=("$(rate -d "$dir/empty.grpc" -H "authorization: Bearer $secret" "$jaco_list")")
  status+=("$(rate -d "$dir/empty.grpc" "$jaco_status")")
  range+=("$(rate -d "$dir/range.grpc" -H "token: $etcd_token" "$etcd_range")")
  echo "round $i: jacod ListTokens (TLS, authenticated) ${list[-1]}/s, jacod GetClusterStatus (TLS) ${status[-1]}/s, etcd Range (h2c, authenticated) ${range[-1]}/s"
done
python3 - "${list[*]}" "${status[*]}" "${range[*]}" <<'PY'
import statistics, sys
lists, statuses, ranges = ([float(x) for x in a.split()] for a in sys.argv[1:4])
ratios = [l / r for l, r in zip(lists, ranges)]
print(f"median calls/s: jacod ListTokens {statistics.median(lists):.0f}, jacod GetClusterStatus {statistics.median(statuses):.0f}, "
      f"etcd Range {statistics.median(ranges):.0f}")
print(f"jacod authenticated / etcd authenticated: {statistics.median(ratios):.2f}x "
      f"(median of per-round ratios; range {min(ratios):.2f}-{max(ratios):.2f}; goal >= 2)")
PY
