#!/usr/bin/python3
"""Validates the simulator's performance model against a real cluster on this machine.

1. `qlab calibrate` measures the costs (or --profile FILE reuses a profile);
2. a real 3-node cluster (`qlab cluster start`, zab, wal storage) runs `qlab bench` at each read
   percentage (default 0, 50, 90, 100) with the same sessions, outstanding requests, value size
   and keys;
3. `qlab sim --workload bench --perf-profile FILE` runs the same workload on the model. The
   real cluster shares this machine's cores among its servers and the load generator, so the
   model does too: --perf host_cores=N (N = the machine's cores unless --host-cores says); its
   links are loopback, so the model's are too (20 us, 40 Gbit/s: --loopback-*).
4. Prints both throughputs and their ratio per read percentage, and writes them as JSON.

    /usr/bin/python3 harness/perf_model_validate.py [--build build] [--out validate.json]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def run(args, **kw):
    out = subprocess.run(args, capture_output=True, text=True, **kw)
    if out.returncode != 0:
        sys.exit(f"failed ({out.returncode}): {' '.join(args)}\n{out.stderr[-2000:]}")
    return out.stdout


def last_json(text):
    return json.loads([l for l in text.splitlines() if l.strip().startswith("{")][-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--profile", help="reuse this profile instead of running qlab calibrate")
    ap.add_argument("--reads", default="0,50,90,100", help="read percentages")
    ap.add_argument("--sessions", type=int, default=12)
    ap.add_argument("--outstanding", type=int, default=20)
    ap.add_argument("--value-size", type=int, default=1024)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--duration", type=float, default=8, help="real bench: measured seconds")
    ap.add_argument("--warmup", type=float, default=2, help="real bench: warm-up seconds")
    ap.add_argument("--measure-ms", type=int, default=1000, help="model: measured window")
    ap.add_argument("--warmup-ms", type=int, default=500, help="model: warm-up")
    ap.add_argument("--host-cores", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--loopback-latency-us", type=float, default=20)
    ap.add_argument("--loopback-mbit-s", type=float, default=40000)
    ap.add_argument("--perf", action="append", default=[],
                    help="extra model cost KEY=VALUE (repeatable)")
    ap.add_argument("--out", default="perf_model_validation.json")
    o = ap.parse_args()
    qlab = os.path.abspath(os.path.join(o.build, "bin", "qlab"))
    reads = [int(x) for x in o.reads.split(",")]
    work = tempfile.mkdtemp(prefix="qlab-validate-")
    profile = o.profile
    if not profile:
        profile = os.path.join(work, "profile.json")
        print("calibrating...", file=sys.stderr)
        run([qlab, "calibrate", "--out", profile, "--dir", work,
             "--value-size", str(o.value_size)])
    costs = json.load(open(profile)).get("costs", {})

    # The real cluster.
    cdir = os.path.join(work, "cluster")
    real = {}
    print("starting a 3-node zab cluster...", file=sys.stderr)
    started = run([qlab, "cluster", "start", "--dir", cdir, "--nodes", "3", "--broadcast", "zab"])
    connect = [l.split(":", 1)[1].strip() for l in started.splitlines()
               if l.startswith("connect:")][0]
    try:
        for r in reads:
            print(f"real bench, {r}% reads...", file=sys.stderr)
            real[r] = last_json(run([
                qlab, "bench", "--connect", connect, "--sessions", str(o.sessions),
                "--outstanding", str(o.outstanding), "--read-pct", str(r),
                "--value-bytes", str(o.value_size), "--keys", str(o.keys),
                "--duration", str(o.duration), "--warmup", str(o.warmup), "--json"]))
    finally:
        subprocess.run([qlab, "cluster", "stop", "--dir", cdir], capture_output=True)

    # The model, same workload, same calibration, the same machine's cores shared.
    model = {}
    for r in reads:
        print(f"model, {r}% reads...", file=sys.stderr)
        args = [qlab, "sim", "--broadcast", "zab", "--nodes", "3", "--faults", "none",
                "--workload", "bench", "--perf-profile", profile,
                "--perf", f"host_cores={o.host_cores}",
                "--perf", f"link_latency_us={o.loopback_latency_us}",
                "--perf", f"client_link_latency_us={o.loopback_latency_us}",
                "--perf", f"link_bandwidth_mbit_s={o.loopback_mbit_s}",
                "--perf", f"client_link_bandwidth_mbit_s={o.loopback_mbit_s}",
                "--sessions", str(o.sessions),
                "--outstanding", str(o.outstanding), "--read-pct", str(r),
                "--value-size", str(o.value_size), "--keys", str(o.keys),
                "--warmup-ms", str(o.warmup_ms), "--measure-ms", str(o.measure_ms), "--json"]
        for kv in o.perf:
            args += ["--perf", kv]
        model[r] = last_json(run(args))

    # The model assumes the machine runs nothing else: note how busy it was.
    load = os.getloadavg()
    rows = []
    print(f"\n{'reads %':>7} {'real ops/s':>11} {'model ops/s':>12} {'model/real':>10} "
          f"{'real p50 ms':>11} {'model p50 ms':>12}")
    for r in reads:
        a = real[r]["ops_per_s"]
        b = model[r]["throughput_ops_s"]
        row = {"read_pct": r, "real_ops_s": a, "model_ops_s": b,
               "ratio": b / a if a else None,
               "real_latency_ms_p50": real[r]["latency_us"]["p50"] / 1000,
               "model_latency_ms_p50": model[r]["latency_ms"]["p50"],
               "real_latency_ms_p99": real[r]["latency_us"]["p99"] / 1000,
               "model_latency_ms_p99": model[r]["latency_ms"]["p99"],
               "model_cpu_utilization": model[r].get("cpu_utilization")}
        rows.append(row)
        print(f"{r:>7} {a:>11.0f} {b:>12.0f} {row['ratio']:>10.2f} "
              f"{row['real_latency_ms_p50']:>11.2f} {row['model_latency_ms_p50']:>12.2f}")
    within = all(r["ratio"] is not None and abs(r["ratio"] - 1) <= 0.3 for r in rows)
    print(f"\nwithin 30% at every read percentage: {'yes' if within else 'no'}")
    print(f"load average at the end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} "
          f"({os.cpu_count()} cores; the model assumes nothing else runs)")
    with open(o.out, "w") as f:
        json.dump({"settings": vars(o), "profile": profile, "costs": costs, "rows": rows,
                   "within_30_percent": within, "load_average": load}, f, indent=1)
    print(f"wrote {o.out}", file=sys.stderr)
    if not o.profile:
        shutil.copy(profile, os.path.splitext(o.out)[0] + ".profile.json")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
