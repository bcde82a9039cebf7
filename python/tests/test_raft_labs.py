"""Planted bugs in copies of the reference Raft (labs 4 and 5) are caught by the graders, and
the replay command points at the trace line where the run goes wrong.

Each test copies instructor/solution/raft.cpp, applies one small patch, builds it (the lab's
CMake project, in a cache folder of the test's own) and runs one grader test on it."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from quorumlab import lab, labraft

REFERENCE = lab.find_lab("raft-log").folder / "instructor" / "solution" / "raft.cpp"


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One working folder and build cache for every planted bug: only raft.cpp recompiles."""
    return tmp_path_factory.mktemp("raftlab")


def planted(shared: Path, old: str, new: str) -> Path:
    text = REFERENCE.read_text()
    assert text.count(old) == 1, old
    work = shared / "work"
    work.mkdir(exist_ok=True)
    (work / "raft.cpp").write_text(text.replace(old, new))
    return work


def check(lab_name: str, work: Path, only: str, shared: Path) -> str:
    env = dict(os.environ, QL_LAB_CACHE=str(shared / "cache"))
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", lab_name, "--dir",
                        str(work), "--only", only], capture_output=True, text=True,
                       timeout=280, env=env)
    assert r.returncode == 1, r.stdout + r.stderr
    return r.stdout


def replay_line(out: str) -> str:
    lines = [l for l in out.splitlines() if "replay: " in l]
    assert lines, out
    return lines[0]


def test_a_follower_that_votes_twice_in_a_term_is_caught(shared):
    # Forgets votedFor: grants every up-to-date candidate of the term (itself included).
    work = planted(shared, "(voted_for_ == 0 || voted_for_ == m.from) && ", "")
    out = check("raft-election", work, "initial election", shared)
    assert "FAIL  initial election" in out, out
    m = re.search(r"node (\d+) voted in term (\d+) for .* \(line (\d+), t=", out)
    assert m, out
    line = m.group(3)
    replay = replay_line(out)
    assert "qlab sim --plugin-dir" in replay and "--broadcast lab-raft" in replay, replay
    assert f"--term {m.group(2)} --around {line}" in replay, replay
    # The replay reproduces the run and its view marks the offending vote.
    sim_cmd, view_cmd = replay.split("replay: ", 1)[1].split(" ; ")
    trace = Path(re.search(r"--trace (\S+)", sim_cmd).group(1))
    trace.unlink()
    subprocess.run(sim_cmd, shell=True, capture_output=True)  # fails: it has two leaders
    assert trace.is_file()
    view = subprocess.run(view_cmd.replace("python3", sys.executable, 1), shell=True,
                          check=True, capture_output=True, text=True).stdout
    marked = [l for l in view.splitlines() if l.startswith(">>")]
    assert marked and f" {line}: " in marked[0] and "vote" in marked[0], view


def test_a_leader_that_commits_an_older_term_by_counting_is_caught(shared):
    # Figure 8's bug: the leader counts copies of entries of earlier terms.
    work = planted(shared, "    if (log_.term_at(n) != term_) break;\n", "")
    out = check("raft-log", work, "Figure 8", shared)
    assert "FAIL  Figure 8" in out, out
    m = re.search(r"committed an entry of an earlier term by counting its copies \(trace line "
                  r"(\d+)", out)
    assert m, out
    assert f"--around {m.group(1)}" in replay_line(out) and "--replication" in replay_line(out)


def test_a_vote_sent_before_it_is_saved_is_caught(shared):
    work = planted(shared, "    voted_for_ = m.from;\n    save_hard_state();\n",
                   "    voted_for_ = m.from;\n")
    out = check("raft-log", work, "persistence", shared)
    assert "FAIL  persistence" in out, out
    m = re.search(r"\(trace line (\d+), t=[\d.]+ s\): vote for \d+ in term \d+ granted but "
                  r"not saved", out)
    assert m, out
    assert f"--around {m.group(1)}" in replay_line(out)


def test_a_leader_without_the_fast_backup_is_caught(shared):
    work = planted(shared, "  LogIndex next = m.conflict_index;\n",
                   "  LogIndex next = next_index_[p] > 1 ? next_index_[p] - 1 : 1;\n"
                   "  if (next == 0) next = m.conflict_index;\n")
    text = (work / "raft.cpp").read_text().replace("  if (m.conflict_term != 0) {\n    for",
                                                   "  if (false) {\n    for")
    (work / "raft.cpp").write_text(text)
    out = check("raft-log", work, "fast backup", shared)
    assert "FAIL  fast backup" in out and "the leader backs up one entry at a time" in out, out
    assert "--around " in replay_line(out)


def test_a_follower_that_truncates_matching_entries_is_caught(shared):
    # A late AppendEntries cuts entries the follower already acknowledged.
    work = planted(shared, "      if (log_.term_at(e.index) == e.epoch) continue;\n", "")
    out = check("raft-log", work, "lost, duplicated", shared)
    assert "FAIL  agreement despite lost" in out and "violated" in out, out
    assert "--around " in replay_line(out)


def test_a_compile_error_is_a_failed_test_with_the_compiler_s_message(shared):
    work = planted(shared, "  role_ = Role::leader;\n", "  role_ = Role::leader\n")
    out = check("raft-election", work, "compiles", shared)
    assert "FAIL  raft.cpp compiles" in out and "error" in out and "hint: " in out, out


def test_a_lab_4_answer_without_replication_passes_lab_4(shared):
    """Lab 4 grades elections only: the starter with just its TODO(lab 4) parts written
    (instructor/election-only) passes."""
    src = lab.find_lab("raft-election").folder / "instructor" / "election-only" / "raft.cpp"
    work = shared / "work"
    work.mkdir(exist_ok=True)
    (work / "raft.cpp").write_text(src.read_text())
    env = dict(os.environ, QL_LAB_CACHE=str(shared / "cache"))
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", "raft-election",
                        "--dir", str(work)], capture_output=True, text=True, timeout=280, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_trace_view_marks_the_line(tmp_path):
    t = tmp_path / "t.txt"
    t.write_text("  0.100000 n1  became_candidate a=0 b=0 epoch 1 candidate for term 1\n"
                 "  0.100000 n1  custom           a=1 b=0 epoch 1 vote for 1 saved in term 1\n"
                 "  0.100100 n2  deliver          a=1 b=168 h=00\n"
                 "  0.100200 n1  vote_sent        a=3 b=0 epoch 1 vote granted for term 1\n")
    events = labraft.read_trace(t)
    f = labraft.double_votes(events)
    assert f and f.line == 4 and f.term == 1 and "for itself" in f.message
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "trace", str(t),
                        "--elections", "--around", "4"], capture_output=True, text=True,
                       check=True)
    assert r.stdout.splitlines()[-1].startswith(">>") and "deliver" not in r.stdout


def test_both_labs_have_the_same_reference():
    other = lab.find_lab("raft-election").folder / "instructor" / "solution" / "raft.cpp"
    assert other.read_text() == REFERENCE.read_text()
