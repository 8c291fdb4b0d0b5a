#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with libFuzzer (+ AddressSanitizer) for a bounded time.
#
#   scripts/fuzz.sh                 # 60 s per target, every target
#   scripts/fuzz.sh 600 consul-json # 10 minutes on one target
#   scripts/fuzz.sh --smoke         # 30,000 runs per target from a fixed seed (a few seconds
#                                   # each; repeatable): what `make test` runs after the suite
#   scripts/fuzz.sh --parallel 7200 # every target at once for 2 hours, at the lowest CPU
#                                   # priority (builds and tests beside it keep their speed)
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
parallel=0
# libFuzzer's per-input timeout is wall-clock: 10 s, but 60 s for --parallel, whose targets run
# at the lowest priority and can be starved that long by builds beside them (a starved target
# once reported a "timeout" on an input that runs in 0.1 s).
timeout=10
if [ "${1:-}" = "--parallel" ]; then parallel=1; timeout=60; shift; fi
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

mkdir -p .build-fuzz/crashes

# Runs one target and writes its log; the exit status is the fuzzer's.
run_target() {
  local target="$1"
  rm -f ".build-fuzz/fuzz-$target.cpu"  # only a --parallel run writes it; none is stale
  mkdir -p ".build-fuzz/corpus/$target"
  JACO_FUZZ_TARGET="$target" ASAN_OPTIONS="detect_leaks=0" "$binary" ".build-fuzz/corpus/$target" "Fuzz/corpus/$target" \
    "${limit[@]}" -timeout="$timeout" -rss_limit_mb=2048 -max_len=65536 \
    -artifact_prefix=".build-fuzz/crashes/$target-" -print_final_stats=1 >".build-fuzz/fuzz-$target.log" 2>&1
}

# Prints one line for a finished target: runs, speed, CPU time, corpus; or what failed.
report_target() {
  local target="$1" status="$2" log=".build-fuzz/fuzz-$1.log"
  local runs speed took cpu corpus
  runs=$(grep -m1 -E "^stat::number_of_executed_units" "$log" | awk '{print $2}' || true)
  speed=$(grep -m1 -E "^stat::average_exec_per_sec" "$log" | awk '{print $2}' || true)
  took=$(grep -m1 -E "^Done [0-9]+ runs in [0-9]+ second" "$log" | awk '{print $5}' || true)
  cpu=$(cat ".build-fuzz/fuzz-$target.cpu" 2>/dev/null || true)
  corpus=$(ls ".build-fuzz/corpus/$target" | wc -l)
  if [ "$status" -eq 72 ]; then
    echo "fuzz: $target interrupted after ${runs:-?} runs (${cpu:+${cpu} s of CPU, }corpus $corpus files)"
  elif [ "$status" -ne 0 ]; then
    echo "fuzz: $target FAILED after ${runs:-?} runs (exit $status):"
    grep -E "ERROR|Fatal error|SUMMARY|artifact_prefix|Test unit written" "$log" | head -20 || true
  else
    echo "fuzz: $target ok: ${runs:-?} runs in ${took:-$seconds}s (${speed:-?}/s${cpu:+, ${cpu} s of CPU}), corpus $corpus files"
  fi
}

for target in "${targets[@]}"; do
  [ -d "Fuzz/corpus/$target" ] || { echo "fuzz: no seed corpus Fuzz/corpus/$target" >&2; exit 64; }
done

failed=0
# Records a finished target's status and prints its line (72: libFuzzer was interrupted, e.g.
# by Ctrl-C or `pkill -INT`; what it found until then is kept).
finish_target() {
  [ "$2" -eq 0 ] || [ "$2" -eq 72 ] || failed=1
  report_target "$1" "$2"
}

if [ "$parallel" -eq 1 ]; then
  # Each target in its own niced process; its CPU seconds (user + system) are recorded
  # beside its log, since wall time says little when the targets share the cores. Started in
  # a session of its own (setsid), the script also lowers its session's autogroup: Linux
  # shares the CPU between sessions first, so per-process nice alone does not yield to builds
  # run elsewhere. Do not SIGSTOP the targets to pause them: libFuzzer's per-input timeout is
  # wall-clock, and each stopped target ends with a false "timeout".
  if [ "$(ps -o sid= -p $$ | tr -d ' ')" = "$$" ]; then echo 19 >"/proc/$$/autogroup" 2>/dev/null || true; fi
  declare -A pids
  for target in "${targets[@]}"; do
    (
      renice -n 19 -p "$BASHPID" >/dev/null
      status=0; run_target "$target" || status=$?
      # `times`' second line is the children's user and system time, as 1m2.345s 0m0.678s.
      # (Written to a file: in a pipeline `times` would run in a subshell of its own.)
      times >".build-fuzz/fuzz-$target.times"
      tail -1 ".build-fuzz/fuzz-$target.times" \
        | awk '{ t = 0; for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); t += p[1] * 60 + p[2] } printf "%.0f", t }' \
        >".build-fuzz/fuzz-$target.cpu"
      exit "$status"
    ) &
    pids[$target]=$!
  done
  for target in "${targets[@]}"; do
    status=0; wait "${pids[$target]}" || status=$?
    finish_target "$target" "$status"
  done
else
  for target in "${targets[@]}"; do
    status=0; run_target "$target" || status=$?
    finish_target "$target" "$status"
  done
fi
exit "$failed"
