"""sim.sweep over N zab seeds against `qlab sim --seeds N`: wall time and CPU time of each, and
the same verdicts (every seed ok in both).

    PYTHONPATH=python /usr/bin/python3 python/examples/sweep_vs_cli.py [seeds] [workers]
"""
import os
import resource
import subprocess
import sys
import time

from quorumlab import _native, sim

n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
workers = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
qlab = os.path.join(_native.bin_dir(), "qlab")


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


c0, t0 = children_cpu(), time.perf_counter()
p = subprocess.run([qlab, "sim", "--broadcast", "zab", "--seed", "1", "--seeds", str(n),
                    "--keep-going"], capture_output=True, text=True)
t_cli, c_cli = time.perf_counter() - t0, children_cpu() - c0
print(f"qlab sim --seeds {n}: {t_cli:.1f} s wall, {c_cli:.1f} s CPU (one process), "
      f"exit {p.returncode}")
print("  " + (p.stdout.strip().splitlines()[0] if p.stdout else p.stderr[-500:]))

c0, t0 = children_cpu(), time.perf_counter()
df = sim.sweep(range(1, n + 1), workers=workers, broadcast="zab", progress=False)
t_py, c_py = time.perf_counter() - t0, children_cpu() - c0
print(f"sim.sweep: {n} seeds, {workers} workers: {t_py:.1f} s wall, {c_py:.1f} s CPU in the "
      f"workers, {int(df.ok.sum())} ok")
print(f"wall-time ratio qlab/sweep {t_cli / t_py:.2f}x; CPU ratio sweep/qlab {c_py / c_cli:.2f}")
