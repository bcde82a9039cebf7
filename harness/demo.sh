#!/usr/bin/env bash
# `make demo`: the comparisons quorumlab exists for, in about a minute.
#   1. the installed plugins;
#   2. zab against raft: the same 3-node cluster (wal, fsync on) under the same benchmark, then
#      the leader killed under load (failover time measured, replicas checked to converge);
#   3. consistency against throughput: each read policy's throughput on a real cluster beside
#      what the simulator finds it allows under every fault (stale and non-linearizable reads).
set -euo pipefail
BUILD=${1:-build}
QLAB="$(cd "$BUILD/bin" && pwd)/qlab"
DIR=$(mktemp -d /tmp/qlab-demo.XXXXXX)
RESULTS="$DIR/results.jsonl"
FAILOVERS="$DIR/failovers.jsonl"
PY=/usr/bin/python3
CLUSTER=""
cleanup() { [ -n "$CLUSTER" ] && "$QLAB" cluster stop --dir "$CLUSTER" >/dev/null 2>&1 || true; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
have() { "$QLAB" plugins --json | grep -q "\"name\": \"$1\""; }

say "1. Installed plugins (qlab plugins)"
"$QLAB" plugins | grep -E '^[a-z_]+:|^  [a-z]' || true

PROTOCOLS="" NODES=3
for p in zab raft; do have "$p" && PROTOCOLS+="$p "; done
if [ -z "$PROTOCOLS" ]; then
  echo "(no replicated broadcast plugin is built here: running the one-node solo baseline)"
  PROTOCOLS="solo" NODES=1
fi

say "2. Protocols side by side: $NODES nodes, wal (fsync on), 12 sessions x 100 outstanding, 1 KiB"
for P in $PROTOCOLS; do
  CLUSTER="$DIR/$P"
  echo "-- $P: starting the cluster"
  CONNECT=$("$QLAB" cluster start --nodes "$NODES" --broadcast "$P" --storage wal --dir "$CLUSTER" \
            | sed -n 's/^connect: //p')
  "$QLAB" cluster status --dir "$CLUSTER"
  for READ_PCT in 0 50 90; do
    if "$QLAB" bench --connect "$CONNECT" --sessions 12 --outstanding 100 --value-bytes 1024 \
        --read-pct "$READ_PCT" --duration 2 --warmup 1 --json 2>"$DIR/bench.err" >"$DIR/bench.json"; then
      sed "s/^{/{\"broadcast\":\"$P\",/" "$DIR/bench.json" >> "$RESULTS"
      echo "   $READ_PCT% reads: $(sed -n 's/.*"ops_per_s":\([0-9.]*\).*/\1/p' "$DIR/bench.json") ops/s"
    else
      echo "(bench failed; its last words:)"; tail -3 "$DIR/bench.err"
    fi
  done
  if [ "$NODES" -gt 1 ]; then
    echo "-- $P: kill -9 the leader under a write load (twice), restart it, check convergence"
    if "$QLAB" cluster failover --dir "$CLUSTER" --rounds 2 --json > "$DIR/failover.json"; then
      "$PY" -c 'import json,sys
for f in json.load(open(sys.argv[1])): print(json.dumps(dict(f, protocol=sys.argv[2])))' \
        "$DIR/failover.json" "$P" >> "$FAILOVERS"
    else
      echo "(failover measurement failed)"
    fi
  fi
  "$QLAB" cluster stop --dir "$CLUSTER" >/dev/null
  CLUSTER=""
done

say "Results: protocols"
"$PY" - "$RESULTS" "$FAILOVERS" <<'PYEOF'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()] if os.path.exists(sys.argv[1]) else []
print(f"{'protocol':>9} {'read %':>7} {'ops/s':>10} {'p50 us':>8} {'p99 us':>8} {'errors':>7}")
for r in rows:
    lat = r["latency_us"]
    print(f"{r['broadcast']:>9} {r['read_pct']:>7} {r['ops_per_s']:>10.0f} {lat['p50']:>8.0f} "
          f"{lat['p99']:>8.0f} {sum(r['errors'].values()):>7}")
if os.path.exists(sys.argv[2]):
    for f in (json.loads(l) for l in open(sys.argv[2]) if l.strip()):
        print(f"{f['protocol']:>9} failover: leader {f['old_leader']} -> {f['new_leader']}, first new "
              f"write {f['failover_ms']:.0f} ms after kill -9; replicas converged: {f['converged']}")
PYEOF

BROADCAST="${PROTOCOLS%% *}"
if [ "$NODES" -gt 1 ]; then
  say "3. Consistency against throughput: the read policies on $BROADCAST"
  echo "Each policy on a fresh $NODES-node cluster (wal, 90% reads, 2 s), and the same policy in the"
  echo "simulator: 60 seeds with partitions, crashes, pauses and clock faults, every read held to"
  echo "linearizability (qlab sim --check-linearizable-reads) to show what each policy allows."
  POLICIES="$DIR/policies.jsonl"
  for POLICY in local sync leader read-index lease bounded; do
    SETS=() SIMARGS=()
    if [ "$POLICY" = lease ]; then
      # zab's lease is opt-in (followers stay out of elections for sync_limit_ticks); raft's
      # needs check_quorum.
      KEY=$([ "$BROADCAST" = zab ] && echo lease || echo check_quorum)
      SETS=(--set "broadcast.$KEY=true") SIMARGS=(--broadcast-param "$KEY=true")
    elif [ "$POLICY" = bounded ]; then
      SETS=(--set read_policy.max_staleness_ms=50) SIMARGS=(--read-policy-param max_staleness_ms=50)
    fi
    CLUSTER="$DIR/policy-$POLICY"
    if ! PCONNECT=$("$QLAB" cluster start --nodes "$NODES" --broadcast "$BROADCAST" --storage wal \
                     --read-policy "$POLICY" "${SETS[@]}" --dir "$CLUSTER" 2>"$DIR/policy.err" \
                     | sed -n 's/^connect: //p'); then
      echo "($POLICY: the cluster did not start: $(tail -1 "$DIR/policy.err"))"; continue
    fi
    "$QLAB" bench --connect "$PCONNECT" --sessions 12 --outstanding 100 --value-bytes 1024 \
      --read-pct 90 --duration 2 --warmup 1 --json 2>/dev/null > "$DIR/policy-bench.json" || true
    "$QLAB" cluster stop --dir "$CLUSTER" >/dev/null 2>&1 || true
    CLUSTER=""
    "$QLAB" sim --broadcast "$BROADCAST" --read-policy "$POLICY" "${SIMARGS[@]}" --faults all \
      --seed 1 --seeds 60 --keep-going --check-linearizable-reads --json \
      > "$DIR/policy-sim.json" 2>/dev/null || true
    "$PY" - "$POLICY" "$DIR/policy-bench.json" "$DIR/policy-sim.json" >> "$POLICIES" <<'PYEOF'
import json, sys
policy, bench, sim = sys.argv[1:4]
row = {"policy": policy}
try:
    b = json.load(open(bench))
    row.update(ops=b["ops_per_s"], p99_us=b["latency_us"]["p99"])
except (OSError, ValueError, KeyError):
    pass
try:
    s = json.loads(open(sim).read().strip().splitlines()[-1])
    row.update(guarantee=s["guarantee"], seeds=s["seeds"],
               nonlin=s["violations"].get("linearizable", 0), stale=s["stale_reads"],
               stale_pct=100 * s["stale_rate"], stale_ms_max=s["staleness_ms"]["max"],
               barriers=s["barriers_per_read"])
except (OSError, ValueError, KeyError, IndexError):
    pass
print(json.dumps(row))
PYEOF
  done
  say "Results: read policies on $BROADCAST"
  "$PY" - "$POLICIES" <<'PYEOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(f"{'policy':>11} {'guarantee':>31} {'ops/s':>9} {'p99 ms':>7} {'barriers/read':>13} "
      f"{'stale reads (sim)':>18} {'max stale ms':>12} {'non-linearizable seeds':>22}")
for r in rows:
    ops = f"{r['ops']:.0f}" if "ops" in r else "-"
    p99 = f"{r['p99_us'] / 1000:.1f}" if "p99_us" in r else "-"
    bar = f"{r['barriers']:.2f}" if "barriers" in r else "-"
    stale = f"{r['stale']} ({r['stale_pct']:.2f}%)" if "stale" in r else "-"
    ms = str(r.get("stale_ms_max", "-"))
    nonlin = f"{r['nonlin']} of {r['seeds']}" if "seeds" in r else "-"
    print(f"{r['policy']:>11} {r.get('guarantee', ''):>31} {ops:>9} {p99:>7} {bar:>13} {stale:>18} "
          f"{ms:>12} {nonlin:>22}")
print("A stale read missed a write acknowledged before the read began. local is ZooKeeper's")
print("(ordered, may be stale); sync and leader wait for the leader's commit point without a quorum")
print("round (stale across leader changes); read-index adds a quorum round; lease skips it while")
print("the leader's lease holds (safe while clocks drift within the bound); bounded reads locally")
print("while its last confirmed commit point is under 50 ms old.")
PYEOF
fi
trap - EXIT
rm -rf "$DIR"
