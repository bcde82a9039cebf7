#!/usr/bin/env bash
# Apache ZooKeeper 3.8 and quorumlab side by side, with the same ZooKeeper-protocol load:
# `qlab bench --protocol zookeeper` (the ZooKeeper paper's benchmark) against
#   1. a 3-server Apache ZooKeeper ensemble on loopback (Debian's `zookeeper` package,
#      QuorumPeerMain, forceSync=yes, one dataDir per server), then
#   2. a 3-node quorumlab cluster (`qlab cluster start --broadcast zab --storage wal`, fsync on),
# one system at a time so each has the whole machine, with a fresh ensemble and cluster for
# every read percentage (so a failure at one point cannot spoil the next). Prints one table with
# throughput and latency and the ratios quorumlab / ZooKeeper, plus how often a quorumlab server
# went LOOKING during the point (elections disturb a run), and writes every result as JSON
# lines to $OUT/results.jsonl.
#
# Usage: harness/tests_zk/side_by_side.sh [QLAB]   (default: build/bin/qlab)
# Environment: READS="0 50 90 100" DURATION=10 WARMUP=2 SESSIONS=12 OUTSTANDING=100
#              VALUE_BYTES=1024 KEYS=1000 OUT=<dir, default a temporary one>
#              QL_SETS="<extra --set KEY=VALUE for the quorumlab servers>"
# zab's failure detection is set to 2 s (sync_limit) and 5 s (init_limit) by default here:
# ZooKeeper runs with its defaults, 10 s and 20 s (tickTime 2000), and on a small loaded machine
# the benchmark itself starves the servers for longer than zab's defaults (80 ms / 200 ms).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
QLAB="$(readlink -f "${1:-$HERE/../../build/bin/qlab}")"
READS="${READS:-0 50 90 100}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
SESSIONS="${SESSIONS:-12}"
OUTSTANDING="${OUTSTANDING:-100}"
VALUE_BYTES="${VALUE_BYTES:-1024}"
KEYS="${KEYS:-1000}"
QL_SETS="${QL_SETS:-broadcast.sync_limit_ticks=200 broadcast.init_limit_ticks=500}"
OUT="${OUT:-$(mktemp -d /tmp/ql_side_by_side.XXXXXX)}"
ZK_JAR=/usr/share/java/zookeeper.jar
ZKCLI=/usr/share/zookeeper/bin/zkCli.sh
PY=/usr/bin/python3

[[ -x "$QLAB" ]] || { echo "side_by_side: no qlab at $QLAB (build it first)" >&2; exit 2; }
[[ -f "$ZK_JAR" ]] || { echo "side_by_side: Apache ZooKeeper not installed ($ZK_JAR)" >&2; exit 2; }
mkdir -p "$OUT"
: > "$OUT/results.jsonl"

ZK_PIDS=()
QL_DIR=""
cleanup() {
  for pid in "${ZK_PIDS[@]:-}"; do [[ -n "$pid" ]] && kill -9 "$pid" 2>/dev/null || true; done
  [[ -n "$QL_DIR" && -f "$QL_DIR/cluster.json" ]] &&
    "$QLAB" cluster stop --dir "$QL_DIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

free_ports() {  # N distinct free loopback ports
  "$PY" - "$1" <<'EOF'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

lookings() {  # how often the quorumlab servers went LOOKING so far
  cat "$QL_DIR"/n*.log | grep -c -- '-> LOOKING' || true
}

annotate_last() {  # key value: adds a field to the last result line
  "$PY" - "$OUT/results.jsonl" "$1" "$2" <<'EOF'
import json, sys
path, key, value = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(path).read().splitlines()
last = json.loads(lines[-1])
last[key] = value
lines[-1] = json.dumps(last)
open(path, "w").write("\n".join(lines) + "\n")
EOF
}

bench() {  # system connect read_pct
  local system="$1" connect="$2" reads="$3" json
  echo "== $system, $reads% reads" >&2
  if ! json="$("$QLAB" bench --protocol zookeeper --connect "$connect" --json --read-pct "$reads" \
                --duration "$DURATION" --warmup "$WARMUP" --sessions "$SESSIONS" \
                --outstanding "$OUTSTANDING" --value-bytes "$VALUE_BYTES" --keys "$KEYS" \
                2> "$OUT/bench-$system-$reads.log")"; then
    echo "side_by_side: the $system run at $reads% reads failed: $(tail -1 "$OUT/bench-$system-$reads.log")" >&2
    json='{"failed": true, "read_pct": '"$reads"'}'
  fi
  "$PY" -c 'import json,sys; j=json.loads(sys.argv[2]); j["system"]=sys.argv[1]; print(json.dumps(j))' \
    "$system" "$json" >> "$OUT/results.jsonl"
}

# ---------------------------------------------------------------- Apache ZooKeeper ensemble
start_zookeeper() {  # tag
  read -r -a P <<< "$(free_ports 9)"
  ZK_CONNECT=""
  for i in 1 2 3; do
    local dir="$OUT/zookeeper-$1/zk$i"
    mkdir -p "$dir/data"
    echo "$i" > "$dir/data/myid"
    {
      echo "tickTime=2000"
      echo "initLimit=10"
      echo "syncLimit=5"
      echo "dataDir=$dir/data"
      echo "clientPort=${P[$(( (i - 1) * 3 ))]}"
      echo "clientPortAddress=127.0.0.1"
      echo "forceSync=yes"
      echo "4lw.commands.whitelist=*"
      echo "admin.enableServer=false"
      echo "maxClientCnxns=0"
      echo "globalOutstandingLimit=100000"
      for j in 1 2 3; do
        echo "server.$j=127.0.0.1:${P[$(( (j - 1) * 3 + 1 ))]}:${P[$(( (j - 1) * 3 + 2 ))]}"
      done
    } > "$dir/zoo.cfg"
    java -Xms256m -Xmx512m -cp "$ZK_JAR" -Dzookeeper.log.dir="$dir" \
      org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" > "$dir/server.log" 2>&1 &
    ZK_PIDS+=("$!")
    ZK_CONNECT+="${ZK_CONNECT:+,}127.0.0.1:${P[$(( (i - 1) * 3 ))]}"
  done
  # Wait until every server serves clients: the Java client blocks until connected (it only
  # connects to a server that is part of a quorum) or its timeout passes.
  for hp in ${ZK_CONNECT//,/ }; do
    "$ZKCLI" -waitforconnection -timeout 60000 -server "$hp" sync / > "$OUT/zookeeper-$1/wait.log" 2>&1 ||
      { echo "side_by_side: ZooKeeper server $hp did not start; see $OUT/zookeeper-$1" >&2; exit 1; }
  done
  echo "ZooKeeper ensemble: $ZK_CONNECT ($(java -cp "$ZK_JAR" org.apache.zookeeper.version.VersionInfoMain 2>/dev/null || echo 3.8))" >&2
}

stop_zookeeper() {
  for pid in "${ZK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${ZK_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  ZK_PIDS=()
}

# ---------------------------------------------------------------- quorumlab cluster
start_quorumlab() {  # tag
  local out
  QL_DIR="$OUT/quorumlab-$1"
  local sets=(--set storage.fsync=true)
  for kv in $QL_SETS; do sets+=(--set "$kv"); done
  out="$("$QLAB" --log-level warn cluster start --dir "$QL_DIR" --nodes 3 --broadcast zab \
          --storage wal "${sets[@]}" --timeout 60)"
  QL_CONNECT="$(sed -n 's/^zookeeper connect: //p' <<< "$out")"
  [[ -n "$QL_CONNECT" ]] || { echo "side_by_side: no zookeeper connect line: $out" >&2; exit 1; }
  echo "quorumlab cluster: $QL_CONNECT" >&2
}

for r in $READS; do
  start_zookeeper "$r"
  bench zookeeper "$ZK_CONNECT" "$r"
  stop_zookeeper
  start_quorumlab "$r"
  before="$(lookings)"
  bench quorumlab "$QL_CONNECT" "$r"
  "$QLAB" cluster stop --dir "$QL_DIR" >/dev/null 2>&1
  annotate_last looking_transitions "$(( $(lookings) - before ))"
done

# ---------------------------------------------------------------- the table
"$PY" - "$OUT/results.jsonl" "$DURATION" "$SESSIONS" "$OUTSTANDING" "$VALUE_BYTES" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["system"], r["read_pct"]): r for r in rows}
print("qlab bench --protocol zookeeper: %s s per point, %s sessions x %s outstanding, %s-byte "
      "values, fsync on, 3 servers on loopback" % tuple(sys.argv[2:6]))
print("ratios are quorumlab / ZooKeeper (throughput: higher is better; latency: lower is better)")
hdr = "%5s | %10s %10s %6s | %9s %9s %6s | %9s %9s %6s | %-14s | %s"
print(hdr % ("read%", "zk ops/s", "ql ops/s", "ql/zk", "zk p50us", "ql p50us", "ql/zk",
             "zk p99us", "ql p99us", "ql/zk", "errors zk / ql", "ql LOOKING"))
for pct in sorted({r["read_pct"] for r in rows}):
    z, q = by.get(("zookeeper", pct)), by.get(("quorumlab", pct))
    if not z or not q or z.get("failed") or q.get("failed"):
        print("%5s | %s" % (pct, "failed: " + ", ".join(
            s for s, r in (("zookeeper", z), ("quorumlab", q)) if not r or r.get("failed"))))
        continue
    ratio = lambda a, b: (a / b) if b else float("nan")
    print(hdr % (pct, "%.0f" % z["ops_per_s"], "%.0f" % q["ops_per_s"],
                 "%.2f" % ratio(q["ops_per_s"], z["ops_per_s"]),
                 "%.0f" % z["latency_us"]["p50"], "%.0f" % q["latency_us"]["p50"],
                 "%.2f" % ratio(q["latency_us"]["p50"], z["latency_us"]["p50"]),
                 "%.0f" % z["latency_us"]["p99"], "%.0f" % q["latency_us"]["p99"],
                 "%.2f" % ratio(q["latency_us"]["p99"], z["latency_us"]["p99"]),
                 "%s / %s" % (sum(z["errors"].values()), sum(q["errors"].values())),
                 q.get("looking_transitions", "?")))
EOF
echo "results: $OUT/results.jsonl" >&2
