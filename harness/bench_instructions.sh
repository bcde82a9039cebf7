#!/usr/bin/env bash
# Server instructions per request, before/after: a change's CPU cost measured by callgrind's
# instruction count, which does not depend on what else the (shared, noisy) machine runs.
# For each build, one `qlab server` (solo + memory, ZooKeeper front-end) runs under
# `valgrind --tool=callgrind` while the NEW build's `qlab bench --protocol zookeeper` loads it
# for SHORT and then LONG seconds; instructions per request = (Ir_long - Ir_short) /
# (ops_long - ops_short), which cancels start-up and the bench's setup.
# Usage: harness/bench_instructions.sh BASE_BUILD NEW_BUILD. Environment: READS (default
# "100 0"), SHORT (2), LONG (6).
set -euo pipefail
BASE="$(readlink -f "${1:?usage: bench_instructions.sh BASE_BUILD NEW_BUILD}")"
NEW="$(readlink -f "${2:?usage: bench_instructions.sh BASE_BUILD NEW_BUILD}")"
READS="${READS:-100 0}"
SHORT="${SHORT:-2}"
LONG="${LONG:-6}"
PY=/usr/bin/python3
command -v valgrind >/dev/null || { echo "bench_instructions: valgrind is not installed" >&2; exit 2; }
OUT=$(mktemp -d /tmp/qlab-instr.XXXXXX)

run() {  # build tag seconds read_pct -> "Ir ops"
  local b=$1 tag=$2 secs=$3 reads=$4 port pid
  port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  valgrind --tool=callgrind --callgrind-out-file="$OUT/$tag.cg" "$b/bin/qlab" server --id 1 \
    --client-port 0 --zk-port "$port" --data-dir "$OUT/data-$tag" --broadcast solo \
    --storage memory --log-level warn > "$OUT/$tag.ready" 2> "$OUT/$tag.vg" &
  pid=$!
  for _ in $(seq 600); do
    grep -q "serving ZooKeeper" "$OUT/$tag.ready" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { echo "bench_instructions: $tag server died" >&2; exit 1; }
    sleep 0.1  # polls the ready line
  done
  "$NEW/bin/qlab" bench --protocol zookeeper --connect "127.0.0.1:$port" --sessions 4 \
    --outstanding 20 --value-bytes 1024 --read-pct "$reads" --duration "$secs" --warmup 0 \
    --json > "$OUT/$tag.json" 2>/dev/null
  kill -TERM "$pid"
  wait "$pid" || true
  echo "$(awk '/^(summary|totals):/ {print $2; exit}' "$OUT/$tag.cg") $("$PY" -c \
    'import json,sys; print(json.load(open(sys.argv[1]))["ops"])' "$OUT/$tag.json")"
}

for reads in $READS; do
  for which in base new; do
    b="$BASE"; [[ $which == new ]] && b="$NEW"
    read -r ir1 ops1 < <(run "$b" "$which-$reads-short" "$SHORT" "$reads")
    read -r ir2 ops2 < <(run "$b" "$which-$reads-long" "$LONG" "$reads")
    echo "$which $reads $(( (ir2 - ir1) / (ops2 - ops1) ))" >> "$OUT/per_op.txt"
  done
done
"$PY" - "$OUT/per_op.txt" <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
per = {(w, int(r)): int(v) for w, r, v in rows}
print("server instructions per request (callgrind), solo + memory, ZooKeeper protocol")
for reads in sorted({k[1] for k in per}, reverse=True):
    b, n = per[("base", reads)], per[("new", reads)]
    print(f"  read {reads:3d}%: base {b:8d}  new {n:8d}  ratio {n / b:5.3f}")
EOF
