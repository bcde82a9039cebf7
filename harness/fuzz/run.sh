#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for N seconds on a scratch copy of its
# checked-in corpus (plus its crash regressions). Prints the executions per target and their
# total; exits non-zero if any target crashed, leaked, hung or hit undefined behaviour, with
# the input saved under BUILD/crashes/.
#
#   harness/fuzz/run.sh [--build DIR] [--seconds N] [--jobs J] [TARGET...]
#
# `make fuzz SECONDS=N` runs it (after installing clang and libFuzzer). TARGET is a name such
# as zk_request (all targets by default). New corpus entries stay in BUILD/fuzz-work/; the
# checked-in harness/fuzz/corpus is never written.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=build-fuzz
seconds=60
jobs=2
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
case "$build" in /*) ;; *) build="$src/$build" ;; esac
if [ ${#targets[@]} -eq 0 ]; then
  targets=(zk_request native_frame peer_envelope broadcast_step wal_recovery snapshot config_toml)
fi

t0=$(date +%s)
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" \
    -DQL_FUZZ=ON -DQL_BUILD_PYTHON=OFF -DQL_BUILD_BENCHMARKS=OFF >/dev/null
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=(--target "${t}_fuzz"); done
cmake --build "$build" -j "$jobs" "${build_targets[@]}"
t1=$(date +%s)
echo "fuzz build took $((t1 - t0)) s"

rm -rf "$build/crashes"
mkdir -p "$build/crashes"
summary="$build/fuzz-summary.txt"
: >"$summary"
total=0
failed=()
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"
  rm -rf "$work"
  mkdir -p "$work/corpus" "$work/tmp"
  cp "$src/harness/fuzz/corpus/$t"/* "$work/corpus/"
  if [ -d "$src/harness/fuzz/regressions/$t" ]; then
    cp "$src/harness/fuzz/regressions/$t"/* "$work/corpus/" 2>/dev/null || true
  fi
  log="$work/fuzz.log"
  status=ok
  if ! (cd "$work" && TMPDIR="$work/tmp" QL_PLUGIN_DIR="$build/bin/plugins" \
        ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
        "$build/bin/${t}_fuzz" -max_total_time="$seconds" -print_final_stats=1 -timeout=20 \
        -rss_limit_mb=2560 -max_len=16384 -artifact_prefix="$build/crashes/$t-" \
        "$work/corpus" >"$log" 2>&1); then
    status=CRASH
    failed+=("$t")
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  execs=${execs:-0}
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  corpus=$(ls "$work/corpus" | wc -l)
  total=$((total + execs))
  printf '%-16s %12s execs %8s/s  corpus %5s  %s\n' "$t" "$execs" "${speed:-0}" "$corpus" "$status" \
    | tee -a "$summary"
  if [ "$status" != ok ]; then
    grep -E 'ERROR|SUMMARY|fuzz target failure|Test unit written|artifact' "$log" | head -20 || true
    echo "  full log: $log"
  fi
done
printf '%-16s %12s execs in %s s per target (%s s of fuzzing)\n' total "$total" "$seconds" \
  "$(($(date +%s) - t1))" | tee -a "$summary"
if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED: ${failed[*]}; crash inputs:"
  ls -1 "$build/crashes"/* 2>/dev/null | sed 's/^/  /'
  exit 1
fi
