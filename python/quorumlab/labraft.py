"""The Raft labs' support (labs 4 and 5, experiments/labs/0[45]-raft-*): build a student's
``raft.cpp`` into the broadcast plugin ``lab-raft``, run it in ``qlab sim``, and read the
simulator's trace the way the labs need it.

``python3 -m quorumlab.lab trace FILE [--elections] [--replication] [--term T]
[--around LINE]`` (or ``python3 -m quorumlab.labraft trace ...``) prints the part of a
``qlab sim --trace`` file a lab is about: the elections
(candidates, votes, leaders) with the faults, or the replication (rejected AppendEntries,
snapshots, commits), marking the line a failed check points at with ``>>``.

The build is a small CMake project (experiments/labs/common/labraft) compiled against this
repository's headers and the ``libquorumlab_core.so`` of the build that ``qlab`` comes from
(``QL_BIN_DIR`` overrides, as for the rest of the package). Builds, plugin folders and traces
are kept under ``~/.cache/quorumlab-labs`` (``QL_LAB_CACHE`` overrides), so that the replay
commands the graders print keep working after the grader exits.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]
COMMON = REPO / "experiments" / "labs" / "common" / "labraft"
PLUGIN = "lab-raft"
PLUGIN_FILE = "libql_broadcast_lab_raft.so"


class BuildError(Exception):
    """The student's raft.cpp does not compile: the message holds the compiler's first
    errors."""


def bin_dir() -> Path:
    env = os.environ.get("QL_BIN_DIR")
    if env:
        return Path(env)
    from . import _native
    return Path(_native.bin_dir())


def qlab() -> str:
    return str(bin_dir() / "qlab")


def cache_root() -> Path:
    env = os.environ.get("QL_LAB_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "quorumlab-labs"


def _root_for(work: Path) -> Path:
    key = hashlib.sha1(str(work.resolve()).encode()).hexdigest()[:10]
    return cache_root() / f"labraft-{work.resolve().name}-{key}"


_built: Dict[Tuple[str, float], Path] = {}


def build(work: Path, source: str = "raft.cpp") -> Path:
    """Compiles ``work/raft.cpp`` (with the given half) into the plugin; returns a plugin folder
    holding it beside the build's own storage and read-policy plugins. Raises BuildError."""
    src = (work / source).resolve()
    if not src.is_file():
        raise BuildError(f"{src} is missing")
    key = (str(src), src.stat().st_mtime)
    if key in _built:
        return _built[key]
    root = _root_for(work)
    b = root / "build"
    core = bin_dir().parent / "lib" / "libquorumlab_core.so"
    if not (b / "CMakeCache.txt").is_file():
        b.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["cmake", "-S", str(COMMON), "-B", str(b), f"-DLAB_SOURCE={src}",
                            f"-DQL_INCLUDE_DIR={REPO / 'kernel' / 'include'}",
                            f"-DQL_CORE_LIB={core}"], capture_output=True, text=True)
        if r.returncode != 0:
            shutil.rmtree(b, ignore_errors=True)
            raise BuildError("cmake could not configure the lab's build:\n" +
                             "\n".join((r.stdout + r.stderr).splitlines()[-15:]))
    r = subprocess.run(["cmake", "--build", str(b), "-j2"], capture_output=True, text=True)
    out = r.stdout + r.stderr
    if r.returncode != 0:
        lines = out.splitlines()
        errs = [i for i, l in enumerate(lines) if "error" in l]
        first = errs[0] if errs else max(0, len(lines) - 15)
        raise BuildError("\n".join(lines[first:first + 15]))
    pd = root / "plugins"
    pd.mkdir(parents=True, exist_ok=True)
    for f in (bin_dir() / "plugins").glob("*.so"):
        if "broadcast" in f.name:
            continue
        link = pd / f.name
        if not link.exists():
            link.symlink_to(f)
    tmp = pd / (PLUGIN_FILE + ".new")
    shutil.copy2(b / "plugins" / PLUGIN_FILE, tmp)
    os.replace(tmp, pd / PLUGIN_FILE)
    _built[key] = pd
    warnings = [l for l in out.splitlines() if "warning:" in l]
    (root / "warnings.txt").write_text("\n".join(warnings))
    return pd


def warnings_of(work: Path) -> List[str]:
    p = _root_for(work) / "warnings.txt"
    return [l for l in p.read_text().splitlines() if l] if p.is_file() else []


# ---- running the simulator -------------------------------------------------------------------


@dataclass
class SimRun:
    ok: bool  #: the simulator's own checks passed
    report: dict  #: its --json report (empty if it printed none)
    output: str  #: what it printed (the violation, the last trace records) when it failed
    trace: Path
    command: str  #: the command that replays the run with its trace


def run_sim(plugin_dir: Path, args: List[str], seed: int, trace_name: str,
            timeout: float = 240) -> SimRun:
    """One ``qlab sim`` run of the lab plugin with `args`, its trace kept for the replay."""
    tdir = plugin_dir.parent / "traces"
    tdir.mkdir(parents=True, exist_ok=True)
    trace = tdir / f"{trace_name}-seed{seed}.txt"
    cmd = [qlab(), "sim", "--plugin-dir", str(plugin_dir), "--broadcast", PLUGIN] + args + \
          ["--seed", str(seed), "--trace", str(trace)]
    r = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=timeout)
    report: dict = {}
    for line in r.stdout.splitlines():
        if line.startswith("{"):
            try:
                report = json.loads(line)
            except ValueError:
                pass
    ok = r.returncode == 0 and report.get("failed", 1) == 0
    return SimRun(ok, report, (r.stdout + r.stderr).strip(), trace,
                  " ".join(shlex.quote(c) for c in cmd))


# ---- the trace -------------------------------------------------------------------------------

_LINE = re.compile(r"^\s*(\d+\.\d+) n(\d+)\s+(\S+)\s+a=(\S+) b=(\S+)\s?(.*)$")


@dataclass
class Event:
    line: int  #: 1-based line number in the trace file
    t: float  #: simulated seconds
    node: int
    kind: str
    a: str
    b: str
    rest: str  #: "epoch E detail" for the plugin's events
    text: str  #: the whole line

    @property
    def term(self) -> int:
        m = re.search(r"(?:term|epoch) (\d+)", self.rest)
        return int(m.group(1)) if m else 0

    @property
    def peer(self) -> int:
        try:
            return int(self.a)
        except ValueError:
            return 0


def read_trace(path: Path) -> List[Event]:
    out = []
    with open(path, errors="replace") as f:
        for i, text in enumerate(f, 1):
            m = _LINE.match(text)
            if m:
                out.append(Event(i, float(m.group(1)), int(m.group(2)), m.group(3), m.group(4),
                                 m.group(5), m.group(6), text.rstrip("\n")))
    return out


ELECTION_KINDS = {"became_candidate", "became_leader", "became_follower", "vote_sent", "crash",
                  "restart", "partition", "heal_partition", "heal", "pause", "resume"}
REPLICATION_KINDS = {"became_leader", "crash", "restart", "partition", "heal_partition", "heal",
                     "custom", "catch_up", "commit"}


@dataclass
class Finding:
    """A check that failed on the trace: what, and the trace line where it goes wrong."""
    message: str
    line: int
    term: int = 0


def double_votes(events: Iterable[Event]) -> Optional[Finding]:
    """A server that grants its vote to two candidates in one term (Figure 2: votedFor)."""
    granted: Dict[Tuple[int, int], Event] = {}
    for e in events:
        if not is_vote(e):
            continue
        key = (e.node, e.term)
        first = granted.get(key)
        if first and first.peer != e.peer:
            def who(v: Event) -> str:
                return "itself" if v.peer == v.node else f"node {v.peer}"
            return Finding(f"node {e.node} voted in term {e.term} for {who(first)} (trace line "
                           f"{first.line}) and then for {who(e)} (line {e.line}, "
                           f"t={e.t:.3f} s)", e.line, e.term)
        granted.setdefault(key, e)
    return None


def is_vote(e: Event) -> bool:
    """A vote granted (to the peer) or a vote saved (for the peer, maybe the node itself)."""
    return (e.kind == "vote_sent" and "granted" in e.rest) or \
        (e.kind == "custom" and "saved in term" in e.rest)


def two_leaders(events: Iterable[Event]) -> Optional[Finding]:
    leaders: Dict[int, Event] = {}
    for e in events:
        if e.kind != "became_leader":
            continue
        first = leaders.get(e.term)
        if first and first.node != e.node:
            return Finding(f"two leaders in term {e.term}: node {first.node} (trace line "
                           f"{first.line}) and node {e.node} (line {e.line}, t={e.t:.3f} s)",
                           e.line, e.term)
        leaders.setdefault(e.term, e)
    return None


def old_term_commits(events: Iterable[Event]) -> Optional[Finding]:
    """A leader that moved its commit point to an entry of an earlier term by counting copies
    (Figure 2's rule forbids it; Figure 8 shows why)."""
    for e in events:
        if e.kind == "custom" and "by counting copies" in e.rest:
            return Finding(f"node {e.node}, leader of term {e.term}, committed an entry of an "
                           f"earlier term by counting its copies (trace line {e.line}, "
                           f"t={e.t:.3f} s): {e.rest.split(' ', 2)[-1]}", e.line, e.term)
    return None


def unsafe_sends(events: Iterable[Event]) -> Optional[Finding]:
    """A message that promises state not yet durable (a vote, a RequestVote, an acknowledged
    AppendEntries sent with send() instead of send_after_persist(), or a vote not saved)."""
    for e in events:
        if e.kind == "custom" and "unsafe: " in e.rest:
            return Finding(f"node {e.node} in term {e.term} (trace line {e.line}, t={e.t:.3f} s): "
                           f"{e.rest.split('unsafe: ', 1)[1]}", e.line, e.term)
    return None


def roles_at(events: List[Event], t: float) -> Dict[int, Tuple[str, int]]:
    """Each node's last role event up to time t: (kind, term)."""
    out: Dict[int, Tuple[str, int]] = {}
    for e in events:
        if e.t > t:
            break
        if e.kind in ("became_leader", "became_candidate", "became_follower"):
            out[e.node] = (e.kind, e.term)
        elif e.kind == "crash":
            out[e.node] = ("crash", 0)
    return out


def print_trace(path: Path, kinds: set, term: Optional[int] = None,
                around: Optional[int] = None, context: int = 25, out=sys.stdout) -> None:
    events = [e for e in read_trace(path)
              if e.kind in kinds or (ELECTION_KINDS <= kinds and is_vote(e))]
    if term is not None:
        events = [e for e in events
                  if e.node == 0 or e.kind in ("crash", "restart") or e.term == term]
    if around is not None:
        idx = min(range(len(events)), key=lambda i: abs(events[i].line - around), default=0)
        events = events[max(0, idx - context):idx + 5]
    for e in events:
        mark = ">>" if around is not None and e.line == around else "  "
        print(f"{mark}{e.line:>8}: {e.text.strip()}", file=out)


def replay(run: SimRun, view: str, finding: Optional[Finding] = None) -> str:
    """The command that replays `run` and shows its trace (`view`: elections or replication),
    around the finding's line when there is one."""
    show = f"python3 -m quorumlab.lab trace {shlex.quote(str(run.trace))} --{view}"
    if finding is not None:
        if finding.term:
            show += f" --term {finding.term}"
        show += f" --around {finding.line}"
    return f"{run.command} ; {show}"


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python3 -m quorumlab.lab",
                                 description="the Raft labs' view of a qlab sim trace")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("trace", help="print the part of a trace a Raft lab is about")
    t.add_argument("file")
    t.add_argument("--elections", action="store_true",
                   help="candidates, votes and leaders, with the faults (default)")
    t.add_argument("--replication", action="store_true",
                   help="rejected AppendEntries, snapshots and commits, with the faults")
    t.add_argument("--term", type=int, help="only events of this term (and the faults)")
    t.add_argument("--around", type=int, help="only the events before this trace line")
    t.add_argument("--context", type=int, default=25, help="events shown before --around")
    a = ap.parse_args(argv)
    kinds = REPLICATION_KINDS if a.replication else ELECTION_KINDS
    print_trace(Path(a.file), kinds, a.term, a.around, a.context)
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ---- for the graders -------------------------------------------------------------------------

_build_errors: Dict[str, str] = {}


def plugin_for(ctx) -> Path:
    """The plugin folder for the student's work (built once per grader run); a compile error
    fails the test with the compiler's first errors."""
    from .lab import Failed
    key = str(ctx.work.resolve())
    if key in _build_errors:
        raise Failed("raft.cpp does not compile (see the first test)")
    try:
        return build(ctx.work)
    except BuildError as e:
        _build_errors[key] = str(e)
        raise Failed(f"raft.cpp does not compile:\n{e}") from None


def sim(ctx, args: List[str], name: str, seed_offset: int = 0) -> SimRun:
    """Runs the student's plugin in qlab sim with the test's seed (plus `seed_offset`); logs
    the command."""
    run = run_sim(plugin_for(ctx), args, ctx.seed + seed_offset, name)
    ctx.log(f"qlab sim {' '.join(args)} --seed {ctx.seed + seed_offset}: "
            f"{'passed' if run.ok else 'FAILED'}")
    return run


def require_sim_ok(ctx, run: SimRun, view: str) -> None:
    """The simulator's own checks passed; otherwise fail with its violation, pointing the
    replay at the last trace line before it."""
    from .lab import Failed
    if run.ok:
        return
    msg = "\n".join(sim_failure(run.output))
    events = read_trace(run.trace) if run.trace.is_file() else []
    last = events[-1].line if events else 0
    ctx.replay = replay(run, view, Finding("", last) if last else None)
    raise Failed(f"the simulator's checks failed (trace line {last} is the last event "
                 f"before the failure):\n{msg}")


def sim_failure(output: str, max_lines: int = 9) -> List[str]:
    """The simulator's description of its failure: the property, when, what and the state of
    each server (without its configuration and trace dump)."""
    out = []
    for line in output.splitlines():
        if line.startswith("resolved config:") or line.startswith("last 50 trace"):
            break
        if not line.strip() or line.startswith("{") or \
                re.match(r"\s+(seed|git revision|reproduce):", line):
            continue
        out.append(line.rstrip())
    return out[:max_lines] or output.splitlines()[:max_lines]


def require_trace_safe(ctx, run: SimRun) -> List[Event]:
    """From the trace: no server voted twice in a term, no term had two leaders, no message
    promised state that was not durable, no leader committed an older term's entry by
    counting."""
    from .lab import Failed
    events = read_trace(run.trace)
    for check in (double_votes, two_leaders, unsafe_sends, old_term_commits):
        f = check(events)
        if f:
            view = "replication" if check is old_term_commits else "elections"
            ctx.replay = replay(run, view, f)
            raise Failed(f.message)
    return events
