"""A worker process of quorumlab.sim.sweep: reads chunks of seeds (one JSON line each) on
stdin, runs them, writes their rows (one JSON line per chunk) on stdout.

Started as ``python -m quorumlab._sweep_worker`` rather than through multiprocessing, so a
sweep works from any script (no ``if __name__ == "__main__"`` guard needed), notebook or
REPL, and never forks a process that has client threads."""
from __future__ import annotations

import json
import sys
import traceback


def main() -> None:
    from quorumlab import sim
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = {"rows": sim._run_chunk(request["seeds"], request["kw"])}
        except Exception as e:  # noqa: BLE001 - reported to the parent
            reply = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
