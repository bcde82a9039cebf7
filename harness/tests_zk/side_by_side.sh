#!/usr/bin/env bash
# Apache ZooKeeper 3.8, quorumlab zab and quorumlab raft side by side, with the same
# ZooKeeper-protocol load: `qlab bench --protocol zookeeper` (the ZooKeeper paper's benchmark)
# against
#   1. a 3-server Apache ZooKeeper ensemble on loopback (Debian's `zookeeper` package,
#      QuorumPeerMain, forceSync=yes, one dataDir per server), its JVM warmed first with the
#      same load for ZK_WARMUP seconds (not recorded), then
#   2. a 3-node quorumlab zab cluster (`qlab cluster start --broadcast zab --storage wal`,
#      fsync on), then
#   3. a 3-node quorumlab raft cluster (`--broadcast raft`, the thesis baseline; wal, fsync on),
# one system at a time so each has the whole machine, with a fresh ensemble and clusters for
# every read percentage (so a failure at one point cannot spoil the next). Prints tables of
# throughput and latency with the ratios zab / ZooKeeper, raft / ZooKeeper and raft / zab (all
# from the same run), how many elections a quorumlab cluster had during a point (its highest
# term/epoch rose: elections disturb a run), and writes every result as JSON lines to
# $OUT/results.jsonl.
#
# Usage: harness/tests_zk/side_by_side.sh [QLAB]   (default: build/bin/qlab)
# Environment: READS="0 50 90 100" DURATION=10 WARMUP=2 ZK_WARMUP=30 SESSIONS=12
#              OUTSTANDING=100 VALUE_BYTES=1024 KEYS=1000 SYSTEMS="zookeeper zab raft"
#              OUT=<dir, default a temporary one>
#              ZAB_SETS / RAFT_SETS="<extra --set KEY=VALUE for that protocol's servers>"
#              (QL_SETS, the older name, still sets ZAB_SETS)
# Failure detection is about 2 s for both protocols by default here: zab's sync_limit 2 s and
# init_limit 5 s, raft's election timeout 2-4 s. ZooKeeper runs with its defaults, 10 s and
# 20 s (tickTime 2000), and on a small loaded machine the benchmark itself starves the servers
# for longer than the plugins' defaults (zab 80 ms / 200 ms, raft 150-300 ms).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
QLAB="$(readlink -f "${1:-$HERE/../../build/bin/qlab}")"
READS="${READS:-0 50 90 100}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
ZK_WARMUP="${ZK_WARMUP:-30}"
SYSTEMS="${SYSTEMS:-zookeeper zab raft}"
SESSIONS="${SESSIONS:-12}"
OUTSTANDING="${OUTSTANDING:-100}"
VALUE_BYTES="${VALUE_BYTES:-1024}"
KEYS="${KEYS:-1000}"
ZAB_SETS="${ZAB_SETS:-${QL_SETS:-broadcast.sync_limit_ticks=200 broadcast.init_limit_ticks=500}}"
RAFT_SETS="${RAFT_SETS:-broadcast.election_timeout_min_ticks=200 broadcast.election_timeout_max_ticks=400}"
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

highest_term() {  # the highest term/epoch any quorumlab server reports (0 if none answers)
  "$QLAB" cluster status --dir "$QL_DIR" --json |
    "$PY" -c 'import json,sys; print(max([n.get("epoch", 0) for n in json.load(sys.stdin)] + [0]))'
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

bench() {  # system connect read_pct [seconds: a warm-up run, not recorded]
  local system="$1" connect="$2" reads="$3" json
  if [[ $# -ge 4 ]]; then
    echo "== $system, $reads% reads: warming up for $4 s (not recorded)" >&2
    "$QLAB" bench --protocol zookeeper --connect "$connect" --json --read-pct "$reads" \
      --duration "$4" --warmup 0 --sessions "$SESSIONS" --outstanding "$OUTSTANDING" \
      --value-bytes "$VALUE_BYTES" --keys "$KEYS" > /dev/null 2> "$OUT/warmup-$system-$reads.log" ||
      echo "side_by_side: the $system warm-up at $reads% reads failed: $(tail -1 "$OUT/warmup-$system-$reads.log")" >&2
    return 0
  fi
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
start_quorumlab() {  # protocol tag
  local out kv extra
  QL_DIR="$OUT/$1-$2"
  local sets=(--set storage.fsync=true)
  if [[ "$1" == raft* ]]; then extra="$RAFT_SETS"; else extra="$ZAB_SETS"; fi
  for kv in $extra; do sets+=(--set "$kv"); done
  out="$("$QLAB" --log-level warn cluster start --dir "$QL_DIR" --nodes 3 --broadcast "$1" \
          --storage wal "${sets[@]}" --timeout 60)"
  QL_CONNECT="$(sed -n 's/^zookeeper connect: //p' <<< "$out")"
  [[ -n "$QL_CONNECT" ]] || { echo "side_by_side: no zookeeper connect line: $out" >&2; exit 1; }
  echo "quorumlab $1 cluster: $QL_CONNECT" >&2
}

for r in $READS; do
  for system in $SYSTEMS; do
    case "$system" in
      zookeeper)
        start_zookeeper "$r"
        if [[ "$ZK_WARMUP" -gt 0 ]]; then bench zookeeper "$ZK_CONNECT" "$r" "$ZK_WARMUP"; fi
        bench zookeeper "$ZK_CONNECT" "$r"
        stop_zookeeper
        ;;
      zab | raft | raft-*)
        start_quorumlab "$system" "$r"
        before="$(highest_term)"
        bench "$system" "$QL_CONNECT" "$r"
        annotate_last elections "$(( $(highest_term) - before ))"
        "$QLAB" cluster stop --dir "$QL_DIR" >/dev/null 2>&1
        ;;
      *)
        echo "side_by_side: unknown system '$system' (zookeeper, zab, raft, raft-*)" >&2
        exit 2
        ;;
    esac
  done
done

# ---------------------------------------------------------------- the table
"$PY" - "$OUT/results.jsonl" "$DURATION" "$SESSIONS" "$OUTSTANDING" "$VALUE_BYTES" "$ZK_WARMUP" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {(r["system"], r["read_pct"]): r for r in rows}
systems = []
for r in rows:
    if r["system"] not in systems:
        systems.append(r["system"])
print("qlab bench --protocol zookeeper: %s s per point, %s sessions x %s outstanding, %s-byte "
      "values, fsync on, 3 servers on loopback; ZooKeeper's JVM warmed %s s with the same load"
      % tuple(sys.argv[2:7]))
ok = lambda r: r is not None and not r.get("failed")
ratio = lambda a, b: ("%.2f" % (a / b)) if b else "nan"
pairs = [(a, b) for a, b in (("zab", "zookeeper"), ("raft", "zookeeper"), ("raft", "zab"))
         if a in systems and b in systems]
for metric, key, better in (("throughput ops/s", None, "higher"),
                            ("latency p50 us", "p50", "lower"),
                            ("latency p99 us", "p99", "lower")):
    print()
    print("%s (%s is better)" % (metric, better))
    cols = ["read%"] + systems + ["%s/%s" % (a, "zk" if b == "zookeeper" else b)
                                  for a, b in pairs]
    print(" | ".join("%10s" % c for c in cols))
    val = lambda r: r["ops_per_s"] if key is None else r["latency_us"][key]
    for pct in sorted({r["read_pct"] for r in rows}):
        cells = ["%10s" % pct]
        for s in systems:
            r = by.get((s, pct))
            cells.append("%10.0f" % val(r) if ok(r) else "%10s" % "failed")
        for a, b in pairs:
            ra, rb = by.get((a, pct)), by.get((b, pct))
            cells.append("%10s" % (ratio(val(ra), val(rb)) if ok(ra) and ok(rb) else "-"))
        print(" | ".join(cells))
print()
print("errors and elections during each point (term/epoch rises of the quorumlab cluster)")
for pct in sorted({r["read_pct"] for r in rows}):
    parts = []
    for s in systems:
        r = by.get((s, pct))
        if not ok(r):
            parts.append("%s failed" % s)
            continue
        e = "%s: %d errors" % (s, sum(r["errors"].values()))
        if "elections" in r:
            e += ", %d elections" % r["elections"]
        parts.append(e)
    print("%5s%% reads: %s" % (pct, "; ".join(parts)))
EOF
echo "results: $OUT/results.jsonl" >&2
