#!/usr/bin/env bash
# Runs schemathesis (every check, every phase) against docs/openapi.yaml and a real jacod:
# HTTPS with the daemon's own CA, the bootstrap token from `jaco cluster init`, everything in
# memory on free ports. Exits non-zero if schemathesis finds a failure or an error.
#
#   scripts/schemathesis-run.sh                 # the full run: 20 examples per operation
#   scripts/schemathesis-run.sh -n 5 --phases examples,coverage,stateful   # a short one
#
# Arguments go to `schemathesis run`. Needs a built jacod and jaco (`swift build`) and
# schemathesis on PATH or in $SCHEMATHESIS (the test suite's venv has it: see
# scripts/python-test-requirements.txt). JACO_BIN overrides .build/debug.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${JACO_BIN:-$root/.build/debug}"
schemathesis="${SCHEMATHESIS:-$(command -v schemathesis || true)}"
if [ -z "$schemathesis" ] || [ ! -x "$schemathesis" ]; then
  echo "schemathesis-run: no schemathesis (pip install schemathesis, or set SCHEMATHESIS=/path/to/it)" >&2
  exit 2
fi
for tool in jacod jaco; do
  [ -x "$bin/$tool" ] || { echo "schemathesis-run: no $bin/$tool: run swift build first" >&2; exit 2; }
done

work="$(mktemp -d /tmp/jaco-schemathesis.XXXXXX)"
source "$root/scripts/lib/common.sh"
grpc_port="$(free_port)"; http_port="$(free_port)"; metrics_port="$(free_port)"
# schemathesis sends wrong tokens on purpose (e.g. to check that auth is not ignored): with the
# failed-authentication throttle on, it would soon get 429 for everything from 127.0.0.1 and test
# little else. The throttle has its own tests (AuthThrottleEndToEndTests).
sed 's/^address = "127.0.0.1:8501"/address = "127.0.0.1:8501"\nfailed_auth_burst = 0/' "$root/Configs/memory.toml" >"$work/jaco.toml"
grep -q "failed_auth_burst = 0" "$work/jaco.toml" || { echo "schemathesis-run: could not turn the throttle off in the config" >&2; exit 1; }
"$bin/jacod" --config "$work/jaco.toml" --data-dir "$work/data" --socket "$work/data/jaco.sock" \
  --grpc-listen "127.0.0.1:$grpc_port" --http-listen "127.0.0.1:$http_port" --metrics-listen "127.0.0.1:$metrics_port" \
  >"$work/jacod.log" 2>&1 &
jacod=$!
cleanup() { kill "$jacod" 2>/dev/null || true; wait "$jacod" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

for _ in $(seq 1 300); do
  grep -q "jacod is ready" "$work/jacod.log" 2>/dev/null && break
  kill -0 "$jacod" 2>/dev/null || { echo "schemathesis-run: jacod exited:" >&2; cat "$work/jacod.log" >&2; exit 1; }
  sleep 0.1
done
grep -q "jacod is ready" "$work/jacod.log" || { echo "schemathesis-run: jacod not ready in 30 s" >&2; cat "$work/jacod.log" >&2; exit 1; }

bootstrap="$("$bin/jaco" cluster init --server "127.0.0.1:$grpc_port" --ca-cert "$work/data/tls/ca.crt" | tail -1 | awk '{print $NF}')"
[ -n "$bootstrap" ] || { echo "schemathesis-run: jaco cluster init printed no secret" >&2; exit 1; }

cd "$root"
[ $# -gt 0 ] || set -- -n 20
set +e
"$schemathesis" --config-file "$root/scripts/schemathesis.toml" run docs/openapi.yaml \
  --url "https://127.0.0.1:$http_port" --tls-verify "$work/data/tls/ca.crt" \
  -H "X-Consul-Token: $bootstrap" --checks all --generation-deterministic --no-color "$@"
status=$?
set -e
if grep -q -E "panic|Fatal error" "$work/jacod.log"; then
  echo "schemathesis-run: jacod logged a crash:" >&2; grep -E "panic|Fatal error" "$work/jacod.log" >&2; exit 1
fi
kill -0 "$jacod" 2>/dev/null || { echo "schemathesis-run: jacod died during the run" >&2; tail -20 "$work/jacod.log" >&2; exit 1; }
exit "$status"
