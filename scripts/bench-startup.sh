#!/usr/bin/env bash
# Times jacod's start on an existing store: seconds from exec to its "jacod is ready" log line,
# and its resident memory then (what a million cached tokens cost). Stops it with SIGINT.
#
#   scripts/bench-startup.sh <store dir> [perf output]
#
# <store dir> holds jaco.toml and the store, e.g. what
# `jaco-bench --only scale --tokens 1000000 --keep yes` leaves behind. JACOD picks the binary
# (default .build/release/jacod); with a second argument jacod runs under `perf record -g`.
set -euo pipefail
dir="${1:?usage: scripts/bench-startup.sh <store dir> [perf output]}"
out="${2:-}"
root="$(cd "$(dirname "$0")/.." && pwd)"
jacod="${JACOD:-$root/.build/release/jacod}"
[ -x "$jacod" ] || { echo "bench-startup: no $jacod; run 'swift build -c release --product jacod'" >&2; exit 1; }
[ -f "$dir/jaco.toml" ] || { echo "bench-startup: no $dir/jaco.toml" >&2; exit 1; }
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
cmd=("$jacod" --config "$dir/jaco.toml" --data-dir "$dir" --grpc-listen 127.0.0.1:0 --socket "$dir/jaco.sock"
  --http-listen 127.0.0.1:0 --metrics-listen 127.0.0.1:0)
start=$(date +%s.%N)
if [ -n "$out" ]; then perf record -g -F 2000 -o "$out" -- "${cmd[@]}" >"$log" 2>&1 & else "${cmd[@]}" >"$log" 2>&1 & fi
pid=$!
until grep -q "jacod is ready" "$log"; do
  sleep 0.01
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; echo "bench-startup: jacod exited before it was ready" >&2; exit 1; }
done
end=$(date +%s.%N)
rss=$(ps -o rss= -p "$(pgrep -n -f -- "--data-dir $dir" || echo "$pid")" | tr -d ' ')
echo "ready after $(awk "BEGIN { printf \"%.2f\", $end - $start }") s, RSS $((rss / 1024)) MiB"
kill -INT "$pid"
wait "$pid" 2>/dev/null || true
