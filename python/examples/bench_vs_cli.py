"""Cluster.bench against `qlab bench` on the same cluster: the load runs in C++ either way, so
Python must not cost throughput. Alternates the two (A B A B ...) and prints the medians.

    PYTHONPATH=python /usr/bin/python3 python/examples/bench_vs_cli.py [rounds] [duration]
"""
import json
import os
import statistics
import subprocess
import sys

from quorumlab import Cluster, _native

rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
duration = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
opts = dict(read_pct=50, sessions=12, outstanding=100, value_bytes=1024, keys=1000)
qlab = os.path.join(_native.bin_dir(), "qlab")

with Cluster(nodes=3, broadcast="zab", storage="memory") as c:
    py, cli = [], []
    def run_py():
        py.append(c.bench(duration=duration, warmup=1, **opts)["ops_per_s"])

    def run_cli():
        out = subprocess.run(
            [qlab, "bench", "--connect", c.connect_string, "--read-pct", "50", "--sessions",
             "12", "--outstanding", "100", "--value-bytes", "1024", "--keys", "1000",
             "--duration", str(duration), "--warmup", "1", "--json"],
            capture_output=True, text=True, check=True).stdout
        cli.append(json.loads(out)["ops_per_s"])

    for i in range(rounds):
        for run in ((run_py, run_cli) if i % 2 == 0 else (run_cli, run_py)):
            run()
        print(f"round {i + 1}: Cluster.bench {py[-1]:.0f} ops/s, qlab bench {cli[-1]:.0f} ops/s",
              flush=True)
    p, q = statistics.median(py), statistics.median(cli)
    print(f"median: Cluster.bench {p:.0f} ops/s, qlab bench {q:.0f} ops/s, "
          f"ratio {p / q:.3f} ({(p / q - 1) * 100:+.1f}%)")
