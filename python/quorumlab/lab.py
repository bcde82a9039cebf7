"""Classroom labs: ``python3 -m quorumlab.lab list | start NAME | check NAME``.

Each lab is a folder of ``experiments/labs/`` with

- ``lab.toml``: ``title``, ``summary``, ``minutes`` (the time a student should plan),
  ``starter`` (the files a student edits, copied by ``start``) and ``grader`` (a Python file);
- ``README.md``: the handout;
- ``starter/``: what the student starts from;
- the grader: tests written with :func:`test` and the :class:`Context` they get;
- ``instructor/``: the reference solution (``instructor/solution/``, the same files as the
  starter) and the expected answers.

``start`` copies the starter into a working folder (default ``./quorumlab-labs/NAME``);
``check`` runs the grader on it and prints each test as passed or failed, with a hint in plain
words, the seed and the command that replays the failing run. It exits 1 when a test fails.
Instructors and CI run ``check NAME --reference`` (must pass) and ``check NAME --starter``
(must fail with its hints). ``trace FILE`` shows the part of a ``qlab sim --trace`` file a lab
is about (the Raft labs' replay commands use it: quorumlab.labraft).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

try:
    import tomllib  # Python 3.11
except ImportError:  # pragma: no cover
    import tomli as tomllib  # type: ignore


def labs_dir() -> Path:
    """``experiments/labs`` of the repository this package belongs to (QL_LABS_DIR overrides)."""
    env = os.environ.get("QL_LABS_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "experiments" / "labs"


class LabError(Exception):
    """A lab that cannot be found, started or graded (bad name, missing files)."""


@dataclass
class Lab:
    name: str
    folder: Path
    title: str
    summary: str
    minutes: int
    starter: List[str]
    grader: str

    @property
    def handout(self) -> Path:
        return self.folder / "README.md"


def _load_lab(folder: Path) -> Lab:
    meta_path = folder / "lab.toml"
    try:
        meta = tomllib.loads(meta_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise LabError(f"{meta_path}: {e}") from e
    missing = [k for k in ("name", "title", "summary", "starter", "grader") if k not in meta]
    if missing:
        raise LabError(f"{meta_path}: missing {', '.join(missing)}")
    return Lab(name=meta["name"], folder=folder, title=meta["title"], summary=meta["summary"],
               minutes=int(meta.get("minutes", 60)), starter=list(meta["starter"]),
               grader=meta["grader"])


def all_labs() -> List[Lab]:
    root = labs_dir()
    if not root.is_dir():
        raise LabError(f"no labs folder at {root} (set QL_LABS_DIR)")
    return [_load_lab(d) for d in sorted(root.iterdir()) if (d / "lab.toml").is_file()]


def find_lab(name: str) -> Lab:
    labs = all_labs()
    for lab in labs:
        if name in (lab.name, lab.folder.name):
            return lab
    raise LabError(f"no lab named '{name}' (labs: {', '.join(l.name for l in labs)})")


def default_work_dir(lab: Lab) -> Path:
    return Path.cwd() / "quorumlab-labs" / lab.name


# ---- the grading API ------------------------------------------------------------------------


class Failed(AssertionError):
    """A test's check failed: the message says what was expected and what happened."""


@dataclass
class TestSpec:
    name: str
    func: Callable[["Context"], Any]
    hint: str
    part: str = ""


_registry: List[TestSpec] = []


def test(name: str, hint: str, part: str = "") -> Callable:
    """Registers a grader test. `hint` is printed when it fails: what the student most likely
    got wrong, in plain words."""
    def wrap(f: Callable[["Context"], Any]) -> Callable[["Context"], Any]:
        _registry.append(TestSpec(name=name, func=f, hint=hint, part=part))
        return f
    return wrap


@dataclass
class Context:
    """What a test gets: the student's folder, the seed, a scratch folder, and how to say
    what failed and how to replay it."""
    lab: Lab
    work: Path
    seed: int
    verbose: bool
    scratch: Path
    test_name: str = ""
    replay: str = ""  #: a command that replays the failing run (set by the test)
    details: List[str] = field(default_factory=list)
    _cleanups: List[Callable[[], Any]] = field(default_factory=list)

    def log(self, msg: str) -> None:
        """A line shown with --verbose (and kept for a failing test)."""
        self.details.append(msg)
        if self.verbose:
            print(f"        {msg}", flush=True)

    def check(self, cond: bool, msg: str) -> None:
        if not cond:
            raise Failed(msg)

    def equal(self, got: Any, expected: Any, what: str) -> None:
        if got != expected:
            raise Failed(f"{what}: expected {expected!r}, got {got!r}")

    def defer(self, f: Callable[[], Any]) -> None:
        """Runs `f` when the test ends, passed or failed (newest first)."""
        self._cleanups.append(f)

    def import_student(self, module: str) -> Any:
        """The student's module `module` (``module.py`` in the working folder), freshly
        imported."""
        path = self.work / f"{module}.py"
        if not path.is_file():
            raise Failed(f"{path} is missing (run `python3 -m quorumlab.lab start "
                         f"{self.lab.name}` first)")
        name = f"_lab_{self.lab.name.replace('-', '_')}_{module}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        return mod

    def answers_toml(self, name: str = "ANSWERS.toml") -> Dict[str, Any]:
        """The student's answers file, parsed; a missing or invalid file fails the test."""
        path = self.work / name
        try:
            return tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise Failed(f"{path} is missing") from None
        except tomllib.TOMLDecodeError as e:
            raise Failed(f"{path} is not valid TOML: {e}") from None

    def expire_session(self, cluster: Any, client: Any) -> float:
        """Expires `client`'s session the way ZooKeeper's own tests do: another client resumes
        the session with its id and password and closes it. Returns the time (monotonic) just
        before, from which on the session's ephemeral nodes may be gone."""
        from .client import Client
        sid, pw = client.client_id
        self.log(f"expire session {sid:#x}")
        t = time.monotonic()
        Client(cluster.connect_string, timeout=4.0, session_id=sid, session_passwd=pw).close()
        return t

    def cluster(self, **kwargs: Any) -> Any:
        """A real local cluster (quorumlab.Cluster) stopped when the test ends. By default its
        nodes keep their state on disk (wal, without fsync: it survives kill -9, which is what
        the graders do): a node that restarted empty (memory storage) has forgotten its votes
        and log, and two such nodes can elect each other and lose what was committed."""
        from .cluster import Cluster
        kwargs.setdefault("dir", str(self.scratch / f"cluster-{len(self._cleanups)}"))
        if "storage" not in kwargs:
            kwargs["storage"] = "wal"
            kwargs["params"] = {"storage.fsync": False, **kwargs.get("params", {})}
        c = Cluster(**kwargs)
        c.start()
        self.defer(c.stop)
        return c

    def _finish(self) -> None:
        while self._cleanups:
            f = self._cleanups.pop()
            try:
                f()
            except Exception:  # a cleanup must not hide the test's own verdict
                if self.verbose:
                    traceback.print_exc()


@dataclass
class Outcome:
    spec: TestSpec
    ok: bool
    seconds: float
    message: str = ""
    replay: str = ""
    details: List[str] = field(default_factory=list)


def _load_grader(lab: Lab) -> List[TestSpec]:
    _registry.clear()
    path = lab.folder / lab.grader
    spec = importlib.util.spec_from_file_location(f"_lab_grader_{lab.name.replace('-', '_')}",
                                                  path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    tests = list(_registry)
    _registry.clear()
    if not tests:
        raise LabError(f"{path} defines no tests")
    return tests


def grade(lab: Lab, work: Path, seed: int = 1, verbose: bool = False,
          only: Optional[str] = None, out=sys.stdout) -> List[Outcome]:
    """Runs the lab's grader on `work`; prints the report to `out`; returns the outcomes."""
    tests = _load_grader(lab)
    if only:
        tests = [t for t in tests if only in t.name or only == t.part]
        if not tests:
            raise LabError(f"no test of lab {lab.name} matches '{only}'")
    print(f"lab {lab.name}: checking {work} (seed {seed})", file=out, flush=True)
    outcomes: List[Outcome] = []
    sys.path.insert(0, str(work))
    try:
        for t in tests:
            with tempfile.TemporaryDirectory(prefix=f"qlab-{lab.name}-") as scratch:
                ctx = Context(lab=lab, work=work, seed=seed, verbose=verbose,
                              scratch=Path(scratch), test_name=t.name)
                t0 = time.monotonic()
                try:
                    t.func(ctx)
                    o = Outcome(t, True, time.monotonic() - t0)
                except Failed as e:
                    o = Outcome(t, False, time.monotonic() - t0, str(e), ctx.replay, ctx.details)
                except Exception as e:  # the student's code raised: that is a failure too
                    tb = traceback.format_exc(limit=-3)
                    o = Outcome(t, False, time.monotonic() - t0,
                                f"{type(e).__name__}: {e}", ctx.replay,
                                ctx.details + tb.rstrip().splitlines())
                finally:
                    ctx._finish()
            outcomes.append(o)
            _report(o, lab, seed, verbose, out)
    finally:
        sys.path.remove(str(work))
    passed = sum(o.ok for o in outcomes)
    total_s = sum(o.seconds for o in outcomes)
    print(f"{passed} of {len(outcomes)} tests passed ({total_s:.0f} s)", file=out, flush=True)
    return outcomes


def _report(o: Outcome, lab: Lab, seed: int, verbose: bool, out) -> None:
    mark = "PASS" if o.ok else "FAIL"
    print(f"  {mark}  {o.spec.name} ({o.seconds:.1f} s)", file=out, flush=True)
    if o.ok:
        return
    for line in o.message.splitlines() or [""]:
        print(f"        {line}", file=out)
    print(f"        hint: {o.spec.hint}", file=out)
    if not verbose:
        for line in o.details[-12:]:
            print(f"        | {line}", file=out)
    replay = o.replay or (f"python3 -m quorumlab.lab check {lab.name} --seed {seed} "
                          f"--only '{o.spec.name}' --verbose")
    print(f"        seed {seed}; replay: {replay}", file=out, flush=True)


# ---- the command line -----------------------------------------------------------------------


def _copy_tree(src: Path, dst: Path, files: List[str]) -> None:
    for rel in files:
        s = src / rel
        if not s.exists():
            raise LabError(f"the lab lists {rel} but {s} does not exist")
        d = dst / rel
        d.parent.mkdir(parents=True, exist_ok=True)
        if s.is_dir():
            shutil.copytree(s, d, dirs_exist_ok=True)
        else:
            shutil.copy2(s, d)


def start(lab: Lab, work: Path, force: bool = False) -> Path:
    """Copies the starter into `work`; refuses to overwrite a student's files unless `force`."""
    existing = [f for f in lab.starter if (work / f).exists()]
    if existing and not force:
        raise LabError(f"{work} already holds {', '.join(existing)}: your work is kept "
                       f"(use --force to start over)")
    work.mkdir(parents=True, exist_ok=True)
    _copy_tree(lab.folder / "starter", work, lab.starter)
    return work


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python3 -m quorumlab.lab",
        description="quorumlab's classroom labs: each has a handout (README.md), a starter "
                    "you edit and an autograder.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the labs, with the time to plan for each")
    s = sub.add_parser("start", help="copy a lab's starter into a working folder")
    s.add_argument("name")
    s.add_argument("--dir", help="working folder (default ./quorumlab-labs/NAME)")
    s.add_argument("--force", action="store_true", help="overwrite files already there")
    c = sub.add_parser("check", help="grade your work: each test passed or failed, with a "
                       "hint, the seed and the replay command")
    c.add_argument("name")
    c.add_argument("--dir", help="working folder (default ./quorumlab-labs/NAME)")
    c.add_argument("--seed", type=int, default=1, help="seed of the faults and schedules")
    c.add_argument("--verbose", action="store_true", help="every step of every test")
    c.add_argument("--only", help="run the tests whose name contains this (or of this part)")
    which = c.add_mutually_exclusive_group()
    which.add_argument("--reference", action="store_true",
                       help="grade the instructor's reference solution (instructors, CI)")
    which.add_argument("--starter", action="store_true",
                       help="grade the untouched starter (it must fail, with hints)")
    t = sub.add_parser("trace", help="the part of a `qlab sim --trace` file a lab is about "
                       "(the Raft labs' replay commands use it; see --help)", add_help=False)
    t.add_argument("args", nargs=argparse.REMAINDER)
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["trace"]:  # its options are labraft's
        from . import labraft
        return labraft.main(argv)
    a = ap.parse_args(argv)
    try:
        if a.command == "list":
            for lab in all_labs():
                print(f"{lab.name:<14} {lab.title} (about {lab.minutes} min)")
                print(f"{'':<14} {lab.summary}")
            print("\nstart one with: python3 -m quorumlab.lab start NAME")
            return 0
        lab = find_lab(a.name)
        if a.command == "start":
            work = start(lab, Path(a.dir) if a.dir else default_work_dir(lab), a.force)
            print(f"lab {lab.name}: {lab.title}")
            print(f"  handout: {lab.handout}")
            print(f"  your files: {', '.join(str(work / f) for f in lab.starter)}")
            print(f"  check your work: python3 -m quorumlab.lab check {lab.name}"
                  + (f" --dir {work}" if a.dir else ""))
            return 0
        if a.reference:
            work = lab.folder / "instructor" / "solution"
        elif a.starter:
            work = lab.folder / "starter"
        else:
            work = Path(a.dir) if a.dir else default_work_dir(lab)
            if not work.is_dir():
                raise LabError(f"{work} does not exist: run `python3 -m quorumlab.lab start "
                               f"{lab.name}` first")
        outcomes = grade(lab, work.resolve(), a.seed, a.verbose, a.only)
        return 0 if all(o.ok for o in outcomes) else 1
    except LabError as e:
        print(f"quorumlab.lab: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Graders import quorumlab.lab: run that module, not this __main__ copy, so that their tests
    # land in the registry the runner reads.
    from quorumlab import lab as _lab
    sys.exit(_lab.main())
