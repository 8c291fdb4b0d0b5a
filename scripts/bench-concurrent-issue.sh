#!/usr/bin/env bash
# Concurrent issuers through the real daemon: PUT /v1/acl/token (Consul API, HTTPS keep-alive)
# from 1 connection and from 64 at once, with wrk, rounds interleaved in one run, on SQLite
# (synchronous = full) and LMDB (sync = true). With group commit, writes that arrive while a
# commit is in flight share the next one. Goal: 64 callers >= 10x one.
#
#   scripts/bench-concurrent-issue.sh [rounds=3] [seconds per round=5] [connections=64]
#
# Needs wrk (apt-get install wrk), curl and python3; builds jacod in release mode.
set -euo pipefail
rounds=${1:-3}
seconds=${2:-5}
connections=${3:-64}
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
build_release_jacod
lua=$(mktemp --suffix=.lua)
cat >"$lua" <<'LUA'
wrk.method = "PUT"
wrk.body = '{"Description":"bench"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Consul-Token"] = os.getenv("JACO_BENCH_SECRET")
LUA
for engine in sqlite lmdb; do
  dir=$(mktemp -d)
  port=$(free_port); grpc=$(free_port)
  "$bin/jacod" --config "Configs/$engine.toml" --data-dir "$dir" --grpc-listen "127.0.0.1:$grpc" --socket "$dir/jaco.sock" \
    --http-listen "127.0.0.1:$port" >"$dir/jacod.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir" "$lua"' EXIT
  for _ in $(seq 100); do grep -q "jacod is ready" "$dir/jacod.log" && break; sleep 0.1; done
  base="https://127.0.0.1:$port"
  export JACO_BENCH_SECRET=$(curl -s --cacert "$dir/tls/ca.crt" -X PUT "$base/v1/acl/bootstrap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretID"])')
  rate() { wrk -t"$(( $1 > 1 ? 2 : 1 ))" -c"$1" -d"${seconds}s" -s "$lua" "$base/v1/acl/token" | awk '/Requests\/sec/ {print $2}'; }
  rate 1 >/dev/null  # warm-up
  one=(); many=()
  for i in $(seq "$rounds"); do
    one+=("$(rate 1)")
    many+=("$(rate "$connections")")
    echo "$engine round $i: 1 connection ${one[-1]} creates/s, $connections connections ${many[-1]} creates/s"
  done
  python3 - "$engine" "$connections" "${one[*]}" "${many[*]}" <<'PY'
import statistics, sys
engine, connections = sys.argv[1], sys.argv[2]
one = [float(x) for x in sys.argv[3].split()]
many = [float(x) for x in sys.argv[4].split()]
ratios = [m / o for o, m in zip(one, many)]
print(f"{engine} median: 1 connection {statistics.median(one):.0f} creates/s, {connections} connections {statistics.median(many):.0f} creates/s, "
      f"ratio {statistics.median(ratios):.1f}x (range {min(ratios):.1f}-{max(ratios):.1f}; goal >= 10x)")
PY
  curl -s --cacert "$dir/tls/ca.crt" -H "X-Consul-Token: $JACO_BENCH_SECRET" "$base/v1/acl/tokens" | python3 -c 'import json,sys; print(f"  ({len(json.load(sys.stdin))} tokens in the store)")'
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
done
rm -f "$lua"
