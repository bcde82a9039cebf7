#!/usr/bin/env bash
# `make demo`: a 3-node ZAB cluster on loopback, a short benchmark, the leader killed under
# load (failover time measured), a results table, the cluster stopped, then the read policies
# compared: throughput on a real cluster against stale reads in the simulator. About 1.5 min.
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

if [ "$NODES" -gt 1 ]; then
  say "7. Consistency against throughput: the read policies on $BROADCAST"
  echo "Each policy on a fresh $NODES-node cluster (wal, 90% reads, 12 x 100 outstanding, 3 s), and"
  echo "the same policy in the simulator: 100 seeds with partitions, crashes, pauses, clock faults."
  POLICIES="$DIR/policies.jsonl"
  for POLICY in local sync leader read-index; do
    PDIR="$DIR/policy-$POLICY"
    if ! PCONNECT=$("$QLAB" cluster start --nodes "$NODES" --broadcast "$BROADCAST" --storage wal \
                     --read-policy "$POLICY" --dir "$PDIR" 2>"$DIR/policy.err" | sed -n 's/^connect: //p'); then
      echo "($POLICY: the cluster did not start: $(tail -1 "$DIR/policy.err"))"; continue
    fi
    "$QLAB" bench --connect "$PCONNECT" --sessions 12 --outstanding 100 --value-bytes 1024 \
      --read-pct 90 --duration 3 --warmup 1 --json 2>/dev/null > "$DIR/policy-bench.json" || true
    "$QLAB" cluster stop --dir "$PDIR" >/dev/null 2>&1 || true
    "$QLAB" sim --broadcast "$BROADCAST" --read-policy "$POLICY" --faults all --seed 1 --seeds 100 \
      --keep-going > "$DIR/policy-sim.txt" 2>&1 || true
    "$PY" - "$POLICY" "$DIR/policy-bench.json" "$DIR/policy-sim.txt" >> "$POLICIES" <<'PYEOF'
import json, re, sys
policy, bench, sim = sys.argv[1], sys.argv[2], open(sys.argv[3]).read()
row = {"policy": policy}
try:
    b = json.load(open(bench))
    row.update(ops=b["ops_per_s"], p99_us=b["latency_us"]["p99"])
except (OSError, ValueError, KeyError):
    pass
m = re.search(r"(\d+) of (\d+) seeds passed", sim)
if m:
    row.update(passed=int(m.group(1)), seeds=int(m.group(2)))
m = re.search(r"stale reads: (\d+) of (\d+) reads stale \(([\d.]+)%\).*?ms mean ([\d.]+) max (\d+)", sim)
if m:
    row.update(stale=int(m.group(1)), reads=int(m.group(2)), stale_pct=float(m.group(3)),
               stale_ms_max=int(m.group(5)))
print(json.dumps(row))
PYEOF
  done
  "$PY" - "$POLICIES" <("$QLAB" plugins --json) <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
guarantee = {p["name"]: p.get("guarantee", "") for p in json.load(open(sys.argv[2]))
             if p["kind"] == "read_policy"}
print(f"{'policy':>11} {'guarantee':>19} {'ops/s':>9} {'p99 ms':>7} {'stale reads (sim)':>18} "
      f"{'max stale ms':>12} {'seeds ok':>9}")
for r in rows:
    ops = f"{r['ops']:.0f}" if "ops" in r else "-"
    p99 = f"{r['p99_us'] / 1000:.1f}" if "p99_us" in r else "-"
    stale = f"{r['stale']} ({r['stale_pct']:.2f}%)" if "stale" in r else "-"
    ms = str(r.get("stale_ms_max", "-"))
    seeds = f"{r['passed']}/{r['seeds']}" if "seeds" in r else "-"
    print(f"{r['policy']:>11} {guarantee.get(r['policy'], ''):>19} {ops:>9} {p99:>7} {stale:>18} "
          f"{ms:>12} {seeds:>9}")
print("A stale read missed a write acknowledged before the read began. local is ZooKeeper's")
print("(ordered, may be stale); sync and leader wait for a barrier at the leader's commit point")
print("(stale only across leader changes); read-index adds a quorum round: linearizable.")
PYEOF
fi
trap - EXIT
rm -rf "$DIR"
