"""Cluster.bench against `qlab bench` on the same cluster: the load runs in C++ either way, so
Python must not cost throughput. Alternates the two (A B A B ...) and prints the medians, and the client process's CPU time per op (user + system, whole run including warmup
and key set-up / measured ops), which the machine's other load disturbs less than throughput.

    PYTHONPATH=python /usr/bin/python3 python/examples/bench_vs_cli.py [rounds] [duration]
"""
import json
import os
import resource
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
    cpu_py, cpu_cli = [], []

    def cpu(who):
        r = resource.getrusage(who)
        return r.ru_utime + r.ru_stime

    def run_py():
        before = cpu(resource.RUSAGE_SELF)
        r = c.bench(duration=duration, warmup=1, **opts)
        cpu_py.append((cpu(resource.RUSAGE_SELF) - before) / r["ops"] * 1e6)
        py.append(r["ops_per_s"])

    def run_cli():
        before = cpu(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            [qlab, "bench", "--connect", c.connect_string, "--read-pct", "50", "--sessions",
             "12", "--outstanding", "100", "--value-bytes", "1024", "--keys", "1000",
             "--duration", str(duration), "--warmup", "1", "--json"],
            capture_output=True, text=True, check=True).stdout
        r = json.loads(out)
        cpu_cli.append((cpu(resource.RUSAGE_CHILDREN) - before) / r["ops"] * 1e6)
        cli.append(r["ops_per_s"])

    for i in range(rounds):
        for run in ((run_py, run_cli) if i % 2 == 0 else (run_cli, run_py)):
            run()
        print(f"round {i + 1}: Cluster.bench {py[-1]:.0f} ops/s ({cpu_py[-1]:.1f} client CPU "
              f"us/op), qlab bench {cli[-1]:.0f} ops/s ({cpu_cli[-1]:.1f} us/op)", flush=True)
    p, q = statistics.median(py), statistics.median(cli)
    print(f"median: Cluster.bench {p:.0f} ops/s, qlab bench {q:.0f} ops/s, "
          f"ratio {p / q:.3f} ({(p / q - 1) * 100:+.1f}%); client CPU per op (all phases): "
          f"{statistics.median(cpu_py):.1f} us vs {statistics.median(cpu_cli):.1f} us")
