"""python3 -m quorumlab run FILE.toml [--out DIR] [--quick] [--workers N]"""
import argparse
import sys

from .experiment import ExperimentError, run


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m quorumlab",
                                 description="quorumlab experiments (see experiments/*.toml)")
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run an experiment file into a result folder")
    r.add_argument("file", help="the experiment, a TOML file")
    r.add_argument("--out", help="result folder (default results/NAME); an existing one resumes")
    r.add_argument("--quick", action="store_true",
                   help="the file's [quick] overrides: a reduced run of about a minute")
    r.add_argument("--workers", type=int, help="points run at once (default: the CPU count)")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    try:
        df = run(a.file, out=a.out, quick=a.quick, workers=a.workers, progress=not a.no_progress)
    except ExperimentError as e:
        print(f"quorumlab: {e}", file=sys.stderr)
        return 2
    failed = int((df["status"] != "ok").sum()) if "status" in df else 0
    print(f"{len(df)} rows, {failed} failed point(s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
