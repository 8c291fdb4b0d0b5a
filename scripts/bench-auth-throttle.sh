#!/usr/bin/env bash
# A valid caller's latency during a brute-force attack on the Consul API, with the failed-
# authentication throttle on (the defaults) and off (failed_auth_burst = 0). The attacker
# (wrk, from 127.0.0.1, 16 connections) sends GET /v1/acl/token/self with wrong secrets; the
# valid caller (curl, from 127.0.0.2, one request at a time) calls the same endpoint with the
# bootstrap secret. Prints the valid caller's p50/p99 idle and under attack, and what the
# attacker got (throughput, share refused with 429).
#
#   scripts/bench-auth-throttle.sh [requests per measurement=300] [attack seconds=20]
#
# Needs wrk (apt-get install wrk), curl and python3; builds jacod in release mode.
set -euo pipefail
requests=${1:-300}
attack=${2:-20}
cd "$(dirname "$0")/.."
source scripts/lib/common.sh
build_release_jacod
lua=$(mktemp --suffix=.lua)
cat >"$lua" <<'LUA'
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/v1/acl/token/self", { ["X-Consul-Token"] = string.format("00000000-0000-4000-8000-%012d", n) })
end
done = function(summary, latency, requests)
  io.write(string.format("attacker: %d requests, %d non-2xx\n", summary.requests, summary.errors.status))
end
LUA
# The valid caller: one curl per request, from 127.0.0.2; prints p50 and p99 in ms.
valid() {
  for _ in $(seq "$requests"); do
    curl -s -o /dev/null -w '%{time_total}\n' --interface 127.0.0.2 --cacert "$dir/tls/ca.crt" -H "X-Consul-Token: $secret" "$base/v1/acl/token/self"
  done | python3 -c 'import sys; t=sorted(float(x)*1000 for x in sys.stdin); print(f"p50 {t[len(t)//2]:.2f} ms, p99 {t[int(len(t)*0.99)-1]:.2f} ms")'
}
for mode in on off; do
  dir=$(mktemp -d)
  port=$(free_port); grpc=$(free_port); metrics=$(free_port)
  config="$dir/jaco.toml"
  if [ "$mode" = off ]; then
    sed 's/^address = "127.0.0.1:8501"/address = "127.0.0.1:8501"\nfailed_auth_burst = 0/' Configs/memory.toml >"$config"
  else
    cp Configs/memory.toml "$config"
  fi
  "$bin/jacod" --config "$config" --data-dir "$dir" --grpc-listen "127.0.0.1:$grpc" --socket "$dir/jaco.sock" \
    --http-listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$metrics" >"$dir/jacod.log" 2>&1 &
  pid=$!
  trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir" "$lua"' EXIT
  for _ in $(seq 100); do grep -qs "jacod is ready" "$dir/jacod.log" && break; sleep 0.1; done
  base="https://127.0.0.1:$port"
  secret=$(curl -s --cacert "$dir/tls/ca.crt" -X PUT "$base/v1/acl/bootstrap" | python3 -c 'import json,sys; print(json.load(sys.stdin)["SecretID"])')
  echo "throttle $mode: idle: $(valid)"
  wrk -t2 -c16 -d"${attack}s" -s "$lua" "$base" >"$dir/wrk.txt" 2>&1 &
  attacker=$!
  sleep 2
  echo "throttle $mode: under attack: $(valid)"
  wait $attacker || true
  refused=$(curl -s "http://127.0.0.1:$metrics/metrics" | awk '/^jaco_denials_total\{.*code="rate_limited"/ {print $2}')
  echo "throttle $mode: $(grep attacker: "$dir/wrk.txt") in ${attack}s; refused with 429 before any lookup: ${refused:-0}"
  kill $pid; wait $pid 2>/dev/null || true
  rm -rf "$dir"
done
rm -f "$lua"
