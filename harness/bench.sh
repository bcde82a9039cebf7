#!/usr/bin/env bash
# `make bench`: the system benchmarks of the README in one run, each against Apache ZooKeeper 3.8
# on the same machine so the figures are ratios measured together.
#   1. the znode tree's hot paths (Google Benchmark, ql_tree_bench), quick settings;
#   2. standalone: ZooKeeper vs one quorumlab node (solo + wal, fsync on), 0% and 100% reads;
#   3. 3 nodes: a ZooKeeper ensemble (JVM warmed 30 s with the same load) vs a quorumlab zab
#      cluster vs a quorumlab raft cluster (wal, fsync on), 0/50/90/100% reads, in one run.
# Usage: harness/bench.sh [BUILD] (default: build). Environment: DURATION (seconds per point,
# default 5), PARTS (default "tree standalone cluster").
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="$(readlink -f "${1:-$HERE/../build}")"
DURATION="${DURATION:-5}"
PARTS="${PARTS:-tree standalone cluster}"
[[ -x "$BUILD/bin/qlab" ]] || { echo "bench: no qlab in $BUILD/bin (run make first)" >&2; exit 2; }

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
      "$HERE/../experiments/standalone_side_by_side.sh" "$BUILD" "$DURATION"
      ;;
    cluster)
      echo "== 3 nodes: Apache ZooKeeper ensemble vs quorumlab zab and raft + wal (12 sessions x 100, 1 KiB)"
      DURATION="$DURATION" WARMUP=1 ZK_WARMUP="${ZK_WARMUP:-30}" \
        "$HERE/tests_zk/side_by_side.sh" "$BUILD/bin/qlab"
      ;;
    *)
      echo "bench: unknown part '$part' (known: tree standalone cluster)" >&2
      exit 2
      ;;
  esac
done
