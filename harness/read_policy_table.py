#!/usr/bin/python3
"""The read axis as one table: for every (protocol, read policy) pair, run the simulator over
the same seeds with the full fault mix, once held to the policy's declared guarantee and once
with every read held to linearizability (what the policy allows), and print a markdown table:
seeds violating the declared guarantee, seeds with a linearizability violation, stale-read
rate, staleness p99 (versions, ms), barriers and quorum rounds per read, lease hits, peer
messages per op, read latency.

    harness/read_policy_table.py [--qlab build/bin/qlab] [--seeds 1000] [--first-seed 1]
"""
import argparse
import json
import subprocess
import sys
import time

CELLS = [
    # (label, broadcast, broadcast params, policy, policy params)
    ("zab", "zab", [], "local", []),
    ("zab", "zab", [], "sync", []),
    ("zab", "zab", [], "leader", []),
    ("zab", "zab", [], "read-index", []),
    ("zab lease=true", "zab", ["lease=true"], "lease", []),
    ("zab", "zab", [], "bounded", ["max_staleness_ms=50"]),
    ("raft", "raft", [], "local", []),
    ("raft", "raft", [], "sync", []),
    ("raft", "raft", [], "leader", []),
    ("raft", "raft", [], "read-index", []),
    ("raft-cq", "raft-cq", [], "lease", []),
    ("raft", "raft", [], "bounded", ["max_staleness_ms=50"]),
]


def run(qlab, broadcast, bparams, policy, pparams, first, seeds, extra):
    cmd = [qlab, "sim", "--broadcast", broadcast, "--nodes", "3", "--read-policy", policy,
           "--faults", "all", "--seed", str(first), "--seeds", str(seeds), "--keep-going",
           "--json"] + extra
    for p in bparams:
        cmd += ["--broadcast-param", p]
    for p in pparams:
        cmd += ["--read-policy-param", p]
    out = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if not out.stdout.strip():
        sys.exit(f"{' '.join(cmd)} gave no report:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qlab", default="build/bin/qlab")
    ap.add_argument("--seeds", type=int, default=1000)
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--json", help="also write every report to this file")
    a = ap.parse_args()
    rows, reports = [], []
    start = time.time()
    for i, (label, b, bp, p, pp) in enumerate(CELLS):
        declared = run(a.qlab, b, bp, p, pp, a.first_seed, a.seeds, [])
        held = run(a.qlab, b, bp, p, pp, a.first_seed, a.seeds, ["--check-linearizable-reads"])
        reports.append({"cell": [label, p, pp], "declared": declared, "linearizable": held})
        name = p + ("(" + ",".join(pp) + ")" if pp else "")
        c = declared["read_counters"]
        rows.append(
            f"| {label} | {name} | {declared['guarantee']} | {declared['failed']} | "
            f"{held['violations'].get('linearizable', 0)} | "
            f"{100 * declared['stale_rate']:.3f}% | {declared['staleness_versions']['p99']} | "
            f"{declared['staleness_ms']['p99']} | {declared['barriers_per_read']:.2f} | "
            f"{declared['read_rounds_per_read']:.2f} | {c.get('lease_hits', 0)}/"
            f"{c.get('lease_misses', 0)} | {declared['peer_messages_per_op']:.1f} | "
            f"{declared['read_latency_ms']['mean']:.1f} / {declared['read_latency_ms']['p99']:.1f} |")
        print(f"  {i + 1}/{len(CELLS)} {label} {name}: {time.time() - start:.0f} s",
              file=sys.stderr, flush=True)
    print(f"seeds {a.first_seed}..{a.first_seed + a.seeds - 1} per cell, 3 nodes, faults all\n")
    print("| protocol | policy | declared guarantee | seeds violating it | seeds with a "
          "linearizability violation | stale reads | staleness p99 (versions) | staleness p99 "
          "(ms) | barriers / read | quorum rounds / read | lease hits/misses | peer msgs / op "
          "| read latency mean / p99 (ms) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(r)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(reports, f, indent=1)


if __name__ == "__main__":
    main()
