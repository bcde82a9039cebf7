"""python3 -m quorumlab run FILE.toml [--out DIR] [--quick] [--workers N | --scheduler ADDR]
python3 -m quorumlab replay DIR POINT [--repetition R] [--seed S] [--trace FILE]"""
import argparse
import sys

from .experiment import ExperimentError, replay, run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m quorumlab",
                                 description="quorumlab experiments (see experiments/*.toml)")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run an experiment file into a result folder")
    r.add_argument("file", help="the experiment, a TOML file")
    r.add_argument("--out", help="result folder (default results/NAME); an existing one resumes")
    r.add_argument("--quick", action="store_true",
                   help="the file's [quick] overrides: a reduced run of about a minute")
    r.add_argument("--workers", type=int, help="simulator points run at once (default: the "
                   "CPU count)")
    r.add_argument("--scheduler", help="run simulator points on this Dask cluster "
                   "(tcp://HOST:8786)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    p = sub.add_parser("replay", help="rerun one simulator point of a result folder and check "
                       "that every seed reproduces bit for bit (trace digests)")
    p.add_argument("dir", help="the result folder")
    p.add_argument("point", type=int, help="the point's index (results.csv: point_index)")
    p.add_argument("--repetition", type=int, default=0, help="which repetition (default 0)")
    p.add_argument("--seed", type=int, help="only this seed")
    p.add_argument("--trace", help="write the (last) seed's whole trace to this file")
    a = ap.parse_args(argv)
    try:
        if a.command == "replay":
            res = replay(a.dir, a.point, a.repetition, a.seed, a.trace)
            for seed, was, now in res["mismatches"]:
                print(f"seed {seed}: recorded trace digest {was or '-'}, now {now or '-'}")
            verdict = "DIFFERS" if res["mismatches"] else "reproduces bit for bit"
            print(f"point {a.point} ({res['point']}), seeds {res['first_seed']}.."
                  f"{res['first_seed'] + res['seeds'] - 1}: {verdict}")
            return 1 if res["mismatches"] else 0
        df = run(a.file, out=a.out, quick=a.quick, workers=a.workers,
                 progress=not a.no_progress, scheduler=a.scheduler)
    except ExperimentError as e:
        print(f"quorumlab: {e}", file=sys.stderr)
        return 2
    failed = int((df["status"] != "ok").sum()) if "status" in df else 0
    print(f"{len(df)} rows, {failed} failed point(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
