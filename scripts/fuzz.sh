#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with libFuzzer (+ AddressSanitizer) for a bounded time.
#
#   scripts/fuzz.sh                 # 60 s per target, every target
#   scripts/fuzz.sh 600 consul-json # 10 minutes on one target
#   scripts/fuzz.sh --smoke         # 30,000 runs per target from a fixed seed (a few seconds
#                                   # each; repeatable): what `make test` runs after the suite
#
# Builds jaco-fuzz with JACO_FUZZ=1 into .build-fuzz (Package.swift instruments the parsers'
# modules), then runs each target from its seeds in Fuzz/corpus/<target>/ plus what earlier runs
# found (.build-fuzz/corpus/<target>/). A crash, memory error, timeout or failed invariant stops the
# target, leaves the input in .build-fuzz/crashes/, and makes the script exit 1: copy that input
# to Fuzz/regressions/<target>/ and fix it; the suite replays every file there
# (FuzzCorpusTests). Prints one line per target: executions, speed, corpus size.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

seconds=60
limit=(-max_total_time=60)
if [ "${1:-}" = "--smoke" ]; then limit=(-runs=30000 -seed=1); seconds="smoke"; shift
elif [[ "${1:-}" =~ ^[0-9]+$ ]]; then seconds="$1"; limit=(-max_total_time="$1"); shift; fi

echo "fuzz: building jaco-fuzz with libFuzzer and AddressSanitizer (.build-fuzz)"
# (ld.gold warns about every ASan symbol it cannot export: noise, filtered.)
if ! JACO_FUZZ=1 swift build --scratch-path .build-fuzz --product jaco-fuzz >.build-fuzz.log 2>&1; then
  grep -v -E "Cannot export local symbol" .build-fuzz.log | grep -E "error" >&2 || tail -30 .build-fuzz.log >&2
  echo "fuzz: the build failed (full log: .build-fuzz.log)" >&2
  exit 1
fi
binary="$(JACO_FUZZ=1 swift build --scratch-path .build-fuzz --product jaco-fuzz --show-bin-path)/jaco-fuzz"
[ -x "$binary" ] || { echo "fuzz: the build made no $binary" >&2; exit 1; }

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(ls Fuzz/corpus)
fi

failed=0
mkdir -p .build-fuzz/crashes
for target in "${targets[@]}"; do
  [ -d "Fuzz/corpus/$target" ] || { echo "fuzz: no seed corpus Fuzz/corpus/$target" >&2; exit 64; }
  mkdir -p ".build-fuzz/corpus/$target"
  log=".build-fuzz/fuzz-$target.log"
  set +e
  JACO_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0" "$binary" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
    "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix=".build-fuzz/crashes/$target-" -print_final_stats=1 >"$log" 2>&1
  status=$?
  set -e
  runs=$(grep -m1 -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  speed=$(grep -m1 -E "^stat::average_exec_per_sec" "$log" | awk '{print $2}' || true)
  took=$(grep -m1 -E "^Done [0-9]+ runs in [0-9]+ second" "$log" | awk '{print $5}' || true)
  corpus=$(ls ".build-fuzz/corpus/$target" | wc -l)
  if [ "$status" -ne 0 ]; then
    failed=1
    echo "fuzz: $target FAILED after ${runs:-?} runs (exit $status):"
    grep -E "ERROR|Fatal error|SUMMARY|artifact_prefix|Test unit written" "$log" | head -20
  else
    echo "fuzz: $target ok: ${runs:-?} runs in ${took:-$seconds}s (${speed:-?}/s), corpus $corpus files"
  fi
done
exit "$failed"
