#!/usr/bin/env bash
# `make demo`: a 3-node ZAB cluster on loopback, a short benchmark, the leader killed under
# load (failover time measured), a results table, and the cluster stopped. About a minute.
set -euo pipefail
BUILD=${1:-build}
QLAB="$(cd "$BUILD/bin" && pwd)/qlab"
DIR=$(mktemp -d /tmp/qlab-demo.XXXXXX)
RESULTS="$DIR/results.jsonl"
PY=/usr/bin/python3
cleanup() { "$QLAB" cluster stop --dir "$DIR" >/dev/null 2>&1 || true; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "1. Installed plugins (qlab plugins)"
"$QLAB" plugins | grep -E '^[a-z_]+:|^  [a-z]' || true

BROADCAST=zab NODES=3
if ! "$QLAB" plugins --json | grep -q '"name": "zab"'; then
  echo "(the zab plugin is not built here: running the one-node solo baseline instead)"
  BROADCAST=solo NODES=1
fi

say "2. Start a $NODES-node '$BROADCAST' cluster with the wal storage (fsync on) in $DIR"
CONNECT=$("$QLAB" cluster start --nodes "$NODES" --broadcast "$BROADCAST" --storage wal --dir "$DIR" \
          | sed -n 's/^connect: //p')
echo "connect string: $CONNECT"
"$QLAB" cluster status --dir "$DIR"

say "3. Benchmark: 12 sessions x 100 outstanding, 1 KiB values, 3 s per read mix"
for READ_PCT in 0 50 90; do
  echo "-- read percentage $READ_PCT"
  if ! "$QLAB" bench --connect "$CONNECT" --sessions 12 --outstanding 100 --value-bytes 1024 \
      --read-pct "$READ_PCT" --duration 3 --warmup 1 --json 2>"$DIR/bench.err" >"$DIR/bench.json"; then
    echo "(bench failed; its last words:)"; tail -3 "$DIR/bench.err"
  fi
  cat "$DIR/bench.json" | tee -a "$RESULTS"
done

if [ "$NODES" -gt 1 ]; then
  say "4. Kill -9 the leader under a write load (twice), restart it, check the replicas converge"
  "$QLAB" cluster failover --dir "$DIR" --rounds 2 --json > "$DIR/failover.json" \
    || echo "(failover measurement failed)"
  cat "$DIR/failover.json"
  say "5. Cluster after the failovers"
  "$QLAB" cluster status --dir "$DIR"
fi

say "Results"
"$PY" - "$RESULTS" "$DIR/failover.json" <<'PYEOF'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'read %':>7} {'ops/s':>10} {'reads/s':>10} {'writes/s':>10} {'p50 us':>8} {'p99 us':>8} {'p999 us':>8} {'errors':>7}")
for r in rows:
    lat = r["latency_us"]
    print(f"{r['read_pct']:>7} {r['ops_per_s']:>10.0f} {r['reads_per_s']:>10.0f} {r['writes_per_s']:>10.0f} "
          f"{lat['p50']:>8.0f} {lat['p99']:>8.0f} {lat['p999']:>8.0f} {sum(r['errors'].values()):>7}")
if os.path.exists(sys.argv[2]):
    for i, f in enumerate(json.load(open(sys.argv[2])), 1):
        print(f"failover {i}: leader {f['old_leader']} -> {f['new_leader']}: first new write "
              f"{f['failover_ms']:.0f} ms after kill -9; replicas converged: {f['converged']}")
PYEOF

say "6. Stop the cluster"
"$QLAB" cluster stop --dir "$DIR"
trap - EXIT
rm -rf "$DIR"
