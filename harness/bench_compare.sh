#!/usr/bin/env bash
# Before/after: the system benchmarks of `make bench` run on two builds of quorumlab in one run,
# point by point and alternating (base, new, base, new, ...), so that a change's cost is a
# ratio measured under the same machine load. The load is always driven by the NEW build's
# `qlab bench --protocol zookeeper` (the same client for both).
#   1. tree: ql_tree_bench of both builds (CPU time per op, lower is better);
#   2. standalone: one server, solo + wal (fsync on), 0% and 100% reads;
#   3. cluster: 3 nodes, zab + wal (fsync on), 0/50/90/100% reads.
# Usage: harness/bench_compare.sh BASE_BUILD NEW_BUILD. Environment: DURATION (seconds per
# point, default 5), ROUNDS (runs per build and point, best kept, default 2), PARTS (default
# "tree standalone cluster"), CLUSTER_READS (default "0 50 90 100").
# On a shared 2-core machine wall-clock points swing by about 10% either way between runs;
# harness/bench_instructions.sh measures the server's CPU cost per request without that noise.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BASE="$(readlink -f "${1:?usage: bench_compare.sh BASE_BUILD NEW_BUILD}")"
NEW="$(readlink -f "${2:?usage: bench_compare.sh BASE_BUILD NEW_BUILD}")"
DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-2}"
PARTS="${PARTS:-tree standalone cluster}"
PY=/usr/bin/python3
for b in "$BASE" "$NEW"; do
  [[ -x "$b/bin/qlab" ]] || { echo "bench_compare: no qlab in $b/bin" >&2; exit 2; }
done
CLIENT="$NEW/bin/qlab"
OUT=$(mktemp -d /tmp/qlab-compare.XXXXXX)
SERVER_PID=""
CLUSTER_DIR=""
cleanup() {
  [[ -n "$SERVER_PID" ]] && kill "$SERVER_PID" 2>/dev/null || true
  [[ -n "$CLUSTER_DIR" && -f "$CLUSTER_DIR/cluster.json" ]] &&
    "$QLAB_OF_CLUSTER" cluster stop --dir "$CLUSTER_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

bench() {  # which connect read_pct
  local json
  json="$("$CLIENT" bench --protocol zookeeper --connect "$2" --sessions 12 --outstanding 100 \
            --value-bytes 1024 --read-pct "$3" --duration "$DURATION" --warmup 1 --json \
            2> "$OUT/bench.log")" ||
    { echo "bench_compare: $1 at $3% reads failed: $(tail -1 "$OUT/bench.log")" >&2; exit 1; }
  echo "$json" | sed "s/^{/{\"build\":\"$1\",\"part\":\"$PART\",/" >> "$OUT/results.jsonl"
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

build_of() { [[ "$1" == base ]] && echo "$BASE" || echo "$NEW"; }

for PART in $PARTS; do
  case "$PART" in
    tree)
      echo "== tree hot paths (ql_tree_bench, ns per op; lower is better)"
      for r in $(seq "$ROUNDS"); do
        for which in base new; do
          b="$(build_of $which)"
          [[ -x "$b/bin/ql_tree_bench" ]] || { echo "(no ql_tree_bench in $b)"; continue; }
          "$b/bin/ql_tree_bench" --benchmark_min_time=0.2 --benchmark_format=json \
            --benchmark_filter='GetData|SetData|CreateDelete|GetChildren' 2>/dev/null |
            "$PY" -c 'import json,sys; d=json.load(sys.stdin)
for x in d["benchmarks"]: print(json.dumps({"build":sys.argv[1],"part":"tree","name":x["name"],"ns":x["cpu_time"]}))' "$which" \
            >> "$OUT/results.jsonl"
        done
      done
      ;;
    standalone)
      echo "== standalone: solo + wal, fsync on, 12 sessions x 100, 1 KiB"
      for reads in 0 100; do
        for r in $(seq "$ROUNDS"); do
          for which in base new; do
            b="$(build_of $which)"
            port="$(free_port)"
            mkdir -p "$OUT/solo-$which"
            rm -rf "$OUT/solo-$which/data"
            "$b/bin/qlab" server --id 1 --client-port 0 --zk-port "$port" \
              --data-dir "$OUT/solo-$which/data" --broadcast solo --storage wal --log-level warn \
              > "$OUT/solo-$which/ready.log" 2> "$OUT/solo-$which/server.log" &
            SERVER_PID=$!
            for _ in $(seq 300); do
              grep -q "serving ZooKeeper clients" "$OUT/solo-$which/ready.log" 2>/dev/null && break
              kill -0 "$SERVER_PID" 2>/dev/null || { echo "bench_compare: $which server died" >&2; exit 1; }
              sleep 0.1  # polls the ready line
            done
            bench "$which" "127.0.0.1:$port" "$reads"
            kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
          done
        done
      done
      ;;
    cluster)
      echo "== 3 nodes: zab + wal, fsync on, 12 sessions x 100, 1 KiB"
      for reads in ${CLUSTER_READS:-0 50 90 100}; do
        for r in $(seq "$ROUNDS"); do
          for which in base new; do
            b="$(build_of $which)"
            QLAB_OF_CLUSTER="$b/bin/qlab"
            CLUSTER_DIR="$OUT/cluster-$which"
            rm -rf "$CLUSTER_DIR"
            out="$("$b/bin/qlab" --log-level warn cluster start --dir "$CLUSTER_DIR" --nodes 3 \
                    --broadcast zab --storage wal --set storage.fsync=true \
                    --set broadcast.sync_limit_ticks=200 --set broadcast.init_limit_ticks=500 \
                    --timeout 60 2> "$OUT/cluster.log")"
            connect="$(sed -n 's/^zookeeper connect: //p' <<< "$out")"
            [[ -n "$connect" ]] || { echo "bench_compare: $which cluster did not start: $out" >&2; exit 1; }
            bench "$which" "$connect" "$reads"
            "$b/bin/qlab" cluster stop --dir "$CLUSTER_DIR" >/dev/null 2>&1 || true
            CLUSTER_DIR=""
          done
        done
      done
      ;;
    *)
      echo "bench_compare: unknown part '$PART' (known: tree standalone cluster)" >&2
      exit 2
      ;;
  esac
done

"$PY" - "$OUT/results.jsonl" "$BASE" "$NEW" "$DURATION" "$ROUNDS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"base {sys.argv[2]}\nnew  {sys.argv[3]}\n{sys.argv[4]} s per point, best of {sys.argv[5]} "
      "alternating runs per build; ratio = new / base")
tree = {}
for r in rows:
    if r["part"] == "tree":
        k = (r["name"], r["build"])
        tree[k] = min(tree.get(k, float("inf")), r["ns"])
if tree:
    print("\ntree (ns per op, lower is better)")
    for name in sorted({k[0] for k in tree}):
        b, n = tree.get((name, "base")), tree.get((name, "new"))
        if b and n:
            print(f"  {name:45s} base {b:10.1f}  new {n:10.1f}  time ratio {n / b:5.3f}")
for part in ("standalone", "cluster"):
    best = {}
    for r in rows:
        if r["part"] != part:
            continue
        k = (r["read_pct"], r["build"])
        if k not in best or r["ops_per_s"] > best[k]["ops_per_s"]:
            best[k] = r
    if not best:
        continue
    print(f"\n{part} (ops/s, higher is better)")
    for rp in sorted({k[0] for k in best}):
        b, n = best[(rp, "base")], best[(rp, "new")]
        print(f"  read {rp:3d}%: base {b['ops_per_s']:9.0f}  new {n['ops_per_s']:9.0f}  "
              f"ratio {n['ops_per_s'] / b['ops_per_s']:5.3f}  p99 ms base "
              f"{b['latency_us']['p99'] / 1000:6.1f} new {n['latency_us']['p99'] / 1000:6.1f}")
EOF
echo "raw results: $OUT/results.jsonl"
