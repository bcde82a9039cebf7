#!/usr/bin/python3
"""Every read policy on real 3-node clusters of each protocol: for every (protocol, policy)
pair, start a fresh cluster (wal, fsync on), run `qlab bench` (90% reads by default, 12
sessions x 100 outstanding, 1 KiB values), read the servers' read-path counters from
`qlab cluster status --json`, stop the cluster, and print a markdown table: throughput, p50 and
p99 latency, reads by mechanism, barriers and quorum rounds per read, lease hits.

    harness/read_policy_bench.py [--qlab build/bin/qlab] [--duration 5] [--read-pct 90]
"""
import argparse
import json
import subprocess
import sys
import tempfile

CELLS = [
    # (label, broadcast, --set values, policy)
    ("zab", "zab", [], "local"),
    ("zab", "zab", [], "sync"),
    ("zab", "zab", [], "leader"),
    ("zab", "zab", [], "read-index"),
    ("zab lease=true", "zab", ["broadcast.lease=true"], "lease"),
    ("zab", "zab", ["read_policy.max_staleness_ms=50"], "bounded"),
    ("raft", "raft", [], "local"),
    ("raft", "raft", [], "sync"),
    ("raft", "raft", [], "leader"),
    ("raft", "raft", [], "read-index"),
    ("raft-cq", "raft-cq", [], "lease"),
    ("raft", "raft", ["read_policy.max_staleness_ms=50"], "bounded"),
]


def qlab(a, *args, capture=True):
    r = subprocess.run([a.qlab, *args], capture_output=capture, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"qlab {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qlab", default="build/bin/qlab")
    ap.add_argument("--duration", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--read-pct", type=int, default=90)
    ap.add_argument("--json", help="also write every result to this file")
    a = ap.parse_args()
    rows, results = [], []
    for i, (label, b, sets, policy) in enumerate(CELLS):
        d = tempfile.mkdtemp(prefix="qlab-rp-")
        args = ["cluster", "start", "--nodes", "3", "--broadcast", b, "--storage", "wal",
                "--read-policy", policy, "--dir", d]
        for s in sets:
            args += ["--set", s]
        try:
            out = qlab(a, *args)
            connect = next(l.split(" ", 1)[1] for l in out.splitlines() if l.startswith("connect: "))
            bench = json.loads(qlab(a, "bench", "--connect", connect, "--sessions", "12",
                                    "--outstanding", "100", "--value-bytes", "1024", "--read-pct",
                                    str(a.read_pct), "--duration", str(a.duration), "--warmup",
                                    str(a.warmup), "--json"))
            status = json.loads(qlab(a, "cluster", "status", "--dir", d, "--json"))
        except (RuntimeError, StopIteration, ValueError) as e:
            print(f"  {label} {policy}: {e}", file=sys.stderr)
            continue
        finally:
            subprocess.run([a.qlab, "cluster", "stop", "--dir", d], capture_output=True, check=False)
        c = {}
        for n in status:
            for k, v in n.get("read_counters", {}).items():
                c[k] = c.get(k, 0) + v
        reads = sum(v for k, v in c.items() if k.startswith("reads_")) or 1
        barriers = c.get("barriers", 0) - c.get("syncs", 0)
        results.append({"protocol": label, "policy": policy, "bench": bench, "counters": c})
        lat = bench["latency_us"]
        rows.append(f"| {label} | {policy} | {bench['ops_per_s']:.0f} | {lat['p50'] / 1000:.1f} | "
                    f"{lat['p99'] / 1000:.1f} | {barriers / reads:.2f} | "
                    f"{c.get('read_rounds', 0) / reads:.2f} | {c.get('lease_hits', 0)}/"
                    f"{c.get('lease_misses', 0)} | {sum(bench['errors'].values())} |")
        print(f"  {i + 1}/{len(CELLS)} {label} {policy}: {bench['ops_per_s']:.0f} ops/s",
              file=sys.stderr, flush=True)
    print(f"3 nodes, wal (fsync on), {a.read_pct}% reads, 12 sessions x 100 outstanding, 1 KiB, "
          f"{a.duration:g} s after {a.warmup:g} s warm-up, one fresh cluster per row\n")
    print("| protocol | policy | ops/s | p50 ms | p99 ms | barriers / read | quorum rounds / read "
          "| lease hits/misses | errors |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
