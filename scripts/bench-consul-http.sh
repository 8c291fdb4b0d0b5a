#!/usr/bin/env bash
# Consul API benchmark: GET /v1/acl/token/self (authenticated: secret lookup, token read,
# JSON) against GET /v1/status/leader (a static route on the same HTTPS listener), with wrk
# over keep-alive connections, rounds interleaved in one run. Goal: ratio >= 0.8.
#
#   scripts/bench-consul-http.sh [rounds=5] [seconds per round=5] [connections=16]
#
# Needs wrk (apt-get install wrk) and curl; builds jacod in release mode.
set -euo pipefail
rounds=${1:-5}
seconds=${2:-5}
connections=${3:-16}
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
build_release_jacod
dir=$(mktemp -d)
port=$(free_port)
grpc=$(free_port)
"$bin/jacod" --config Configs/memory.toml --data-dir "$dir" --grpc-listen "127.0.0.1:$grpc" --socket "$dir/jaco.sock" \
  --http-listen "127.0.0.1:$port" >"$dir/jacod.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do grep -q "jacod is ready" "$dir/jacod.log" && break; sleep 0.1; done
base="https://127.0.0.1:$port"
secret=$(curl -s --cacert "$dir/tls/ca.crt" -X PUT "$base/v1/acl/bootstrap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretID"])')
rate() { wrk -t1 -c"$connections" -d"${seconds}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
rate -H "X-Consul-Token: $secret" "$base/v1/acl/token/self" >/dev/null  # warm-up
static=(); self=()
for i in $(seq "$rounds"); do
  static+=("$(rate "$base/v1/status/leader")")
  self+=("$(rate -H "X-Consul-Token: $secret" "$base/v1/acl/token/self")")
  echo "round $i: static ${static[-1]} req/s, token/self ${self[-1]} req/s"
done
python3 - "${static[*]}" "${self[*]}" <<'PY'
import statistics, sys
static = [float(x) for x in sys.argv[1].split()]
selfs = [float(x) for x in sys.argv[2].split()]
ratios = [t / s for s, t in zip(static, selfs)]
print(f"median: static {statistics.median(static):.0f} req/s, token/self {statistics.median(selfs):.0f} req/s, "
      f"ratio {statistics.median(ratios):.2f} (median of per-round ratios; range {min(ratios):.2f}-{max(ratios):.2f}; goal >= 0.8)")
PY
