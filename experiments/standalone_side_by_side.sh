#!/usr/bin/env bash
# Issue 4's comparison: Apache ZooKeeper 3.8 standalone against one quorumlab node (solo + wal,
# fsync on), the same `qlab bench --protocol zookeeper` load against both in one run, and the
# ratios. Usage: experiments/standalone_side_by_side.sh [BUILD] [SECONDS]
set -euo pipefail
BUILD=${1:-build}; SECS=${2:-5}
QLAB="$(cd "$BUILD/bin" && pwd)/qlab"
OUT=$(mktemp -d /tmp/qlab-standalone.XXXXXX)
ZK_JAR=/usr/share/java/zookeeper.jar
read -r ZKP QLP < <(/usr/bin/python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]; print(*[x.getsockname()[1] for x in s])')
mkdir -p "$OUT/zk/data" "$OUT/ql"
printf 'tickTime=2000\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nforceSync=yes\nmaxClientCnxns=0\nglobalOutstandingLimit=100000\nadmin.enableServer=false\n' \
  "$OUT/zk/data" "$ZKP" > "$OUT/zk/zoo.cfg"
java -Xms256m -Xmx1g -cp "$ZK_JAR" org.apache.zookeeper.server.quorum.QuorumPeerMain "$OUT/zk/zoo.cfg" \
  > "$OUT/zk/server.log" 2>&1 &
ZK_PID=$!
"$QLAB" server --id 1 --client-port 0 --zk-port "$QLP" --data-dir "$OUT/ql" --broadcast solo \
  --storage wal --log-level warn > "$OUT/ql/ready.log" 2>"$OUT/ql/server.log" &
QL_PID=$!
trap 'kill $ZK_PID $QL_PID 2>/dev/null || true' EXIT
/usr/share/zookeeper/bin/zkCli.sh -waitforconnection -timeout 60000 -server "127.0.0.1:$ZKP" sync / >/dev/null 2>&1
until grep -q "serving clients" "$OUT/ql/ready.log"; do sleep 0.1; done
for READ_PCT in 0 100; do
  for target in zookeeper quorumlab; do
    port=$ZKP; [ $target = quorumlab ] && port=$QLP
    "$QLAB" bench --protocol zookeeper --connect "127.0.0.1:$port" --sessions 12 --outstanding 100 \
      --value-bytes 1024 --read-pct $READ_PCT --duration "$SECS" --warmup 1 --json 2>/dev/null \
      | sed "s/^{/{\"target\":\"$target\",/" >> "$OUT/results.jsonl"
  done
done
/usr/bin/python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["target"], r["read_pct"]): r for r in rows}
for rp in (0, 100):
    z, q = by[("zookeeper", rp)], by[("quorumlab", rp)]
    print(f"read {rp:3d}%: ZooKeeper {z['ops_per_s']:9.0f} ops/s (p99 {z['latency_us']['p99']/1000:.1f} ms)  "
          f"quorumlab solo+wal {q['ops_per_s']:9.0f} ops/s (p99 {q['latency_us']['p99']/1000:.1f} ms)  "
          f"ratio {q['ops_per_s']/max(z['ops_per_s'],1):.2f}x")
PY
