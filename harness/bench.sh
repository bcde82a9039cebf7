#!/usr/bin/env bash
# `make bench`: the system benchmarks of the README in one run, each against Apache ZooKeeper 3.8
# on the same machine so the figures are ratios measured together.
#   1. the znode tree's hot paths (Google Benchmark, ql_tree_bench), quick settings;
#   2. standalone: experiments/zookeeper_standalone.toml (ZooKeeper vs one quorumlab node,
#      solo + wal, fsync on; 0% and 100% reads);
#   3. 3 nodes: experiments/zookeeper_comparison.toml (a ZooKeeper ensemble vs quorumlab zab
#      and raft clusters, wal with fsync; 0/50/90/100% reads).
# The comparisons are experiments (python3 -m quorumlab run): every system warmed with the same
# load first (ZooKeeper's JVM 30 s), the same client for all, the systems alternating; each
# result folder (results/NAME) has summary.md with ops/s and the ratio against ZooKeeper
# (vs_baseline), results.csv, plots and manifest.json.
# Usage: harness/bench.sh [BUILD] (default: build). Environment: PARTS (default "tree
# standalone cluster"), OUT (default results), QUICK=1 (the experiments' --quick variants).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD="$(readlink -f "${1:-$ROOT/build}")"
PARTS="${PARTS:-tree standalone cluster}"
OUT="${OUT:-$ROOT/results}"
PY=/usr/bin/python3
[[ -x "$BUILD/bin/qlab" ]] || { echo "bench: no qlab in $BUILD/bin (run make first)" >&2; exit 2; }

experiment() {  # NAME
  local dir="$OUT/$1${QUICK:+-quick}"
  rm -rf "$dir"  # a fresh run: results of an earlier run would be resumed, not re-measured
  PYTHONPATH="$ROOT/python" "$PY" -m quorumlab run "$ROOT/experiments/$1.toml" --out "$dir" \
    ${QUICK:+--quick}
  sed -n '/^| /p' "$dir/summary.md"
  echo "(folder: $dir)"
}

for part in $PARTS; do
  case "$part" in
    tree)
      echo "== znode tree hot paths (ql_tree_bench, CPU time per op)"
      if [[ -x "$BUILD/bin/ql_tree_bench" ]]; then
        "$BUILD/bin/ql_tree_bench" --benchmark_min_time=0.2 \
          --benchmark_filter='GetData|SetData|CreateDelete|GetChildren' 2>/dev/null
      else
        echo "(not built: configure with -DQL_BUILD_BENCHMARKS=ON)"
      fi
      ;;
    standalone)
      echo "== standalone: Apache ZooKeeper vs quorumlab solo + wal (12 sessions x 100, 1 KiB)"
      experiment zookeeper_standalone
      ;;
    cluster)
      echo "== 3 nodes: Apache ZooKeeper ensemble vs quorumlab zab and raft + wal (12 sessions x 100, 1 KiB)"
      experiment zookeeper_comparison
      ;;
    *)
      echo "bench: unknown part '$part' (known: tree standalone cluster)" >&2
      exit 2
      ;;
  esac
done
