"""Every lab's grader on the untouched starter: it must fail (exit 1), every test reported as
FAIL with a hint and a replay command, quickly (the starters stop at their first TODO)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from quorumlab import lab


@pytest.mark.parametrize("name", [l.name for l in lab.all_labs()])
def test_the_starter_fails_with_hints(name):
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", name, "--starter"],
                       capture_output=True, text=True, timeout=280)
    assert r.returncode == 1, r.stdout + r.stderr
    fails = [l for l in r.stdout.splitlines() if l.startswith("  FAIL")]
    assert fails, r.stdout
    assert r.stdout.count("hint: ") >= len(fails), r.stdout
    assert r.stdout.count("replay: ") >= len(fails), r.stdout


def test_start_copies_the_starter_and_keeps_a_students_work(tmp_path):
    first = lab.all_labs()[0]
    work = tmp_path / "w"
    lab.start(first, work)
    for f in first.starter:
        assert (work / f).read_text() == (first.folder / "starter" / f).read_text()
    (work / first.starter[0]).write_text("# my work\n")
    with pytest.raises(lab.LabError, match="your work is kept"):
        lab.start(first, work)
    assert (work / first.starter[0]).read_text() == "# my work\n"


def test_bad_names_and_missing_work_are_clear_errors(tmp_path):
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", "nosuchlab"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "no lab named 'nosuchlab'" in r.stderr
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", lab.all_labs()[0].name,
                        "--dir", str(tmp_path / "none")], capture_output=True, text=True)
    assert r.returncode == 2 and "does not exist" in r.stderr
