"""Experiments (quorumlab.experiment): TOML validation naming the key's path, a simulator sweep
into a result folder, resume without redoing finished points, a failed point recorded while
the others go on, the same results from the same file twice, and the shipped experiments'
--quick runs."""
import glob
import json
import os

import pytest

from quorumlab import experiment
from quorumlab.experiment import ExperimentError

REPO = os.path.join(os.path.dirname(__file__), "..", "..")

BASE = """
name = "t"
question = "Does it run?"
backend = "sim"
[seeds]
first = 1
count = 3
[settings]
nodes = 3
faults = "none"
duration_ms = 500
[axes]
broadcast = ["zab", "raft"]
[[plots]]
kind = "bar"
x = "broadcast"
y = "stale_rate"
"""


def write(tmp_path, text, name="e.toml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("text,message", [
    ("name = 'x'\nquestion = 'q'\ncolour = 1\n", "colour: unknown key; allowed:"),
    ("question = 'q'\n", "name: required"),
    ("name = 'x'\nquestion = 'q'\nbackend = 'moon'\n", "backend: 'moon' is not available"),
    ("name = 'x'\nquestion = 'q'\nrepetitions = 0\n", "repetitions: a positive integer"),
    ("name = 'x'\nquestion = 'q'\n[seeds]\ncount = -1\n", "seeds.count: a positive integer"),
    ("name = 'x'\nquestion = 'q'\n[settings]\nnodez = 3\n",
     "settings.nodez: unknown setting; allowed: broadcast"),
    ("name = 'x'\nquestion = 'q'\n[settings]\nnodes = 'three'\n",
     "settings.nodes: must be a non-negative integer"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = []\n", "axes.nodes: an axis needs"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = [3, 'five']\n", "axes.nodes[1]: must be"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = { from = 5, to = 3 }\n", "axes.nodes: from"),
    ("name = 'x'\nquestion = 'q'\n[[plots]]\nkind = 'pie'\nx = 'nodes'\ny = 'reads'\n",
     "plots[0].kind: one of bar, line, scatter"),
    ("name = 'x'\nquestion = 'q'\n[[plots]]\nkind = 'bar'\nx = 'nodes'\ny = 'joy'\n",
     "plots[0].y: 'joy' is not a column"),
    ("name = 'x'\nquestion = 'q'\n[quick]\nplots = []\n", "quick.plots: only settings"),
    ("name = = 'x'\n", "not valid TOML"),
])
def test_bad_files_are_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(ExperimentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        experiment.load(write(tmp_path, text))


def test_a_sweep_writes_the_result_folder_and_resumes(tmp_path):
    path = write(tmp_path, BASE)
    out = str(tmp_path / "out")
    df = experiment.run(path, out=out, progress=False)
    assert sorted(df["broadcast"]) == ["raft", "zab"]
    assert (df["status"] == "ok").all() and (df["passed"] == 3).all()
    for f in ("manifest.json", "results.jsonl", "results.csv", "summary.md", "plot1.png",
              "plot1.svg"):
        assert os.path.exists(os.path.join(out, f)), f
    manifest = json.load(open(os.path.join(out, "manifest.json")))
    assert manifest["points"] == [{"nodes": 3, "faults": "none", "duration_ms": 500,
                                   "broadcast": b} for b in ("zab", "raft")]
    assert manifest["seeds"] == {"first": 1, "count": 3}
    # Resume: nothing left to run, nothing appended.
    lines = open(os.path.join(out, "results.jsonl")).read().splitlines()
    df2 = experiment.run(path, out=out, progress=False)
    assert open(os.path.join(out, "results.jsonl")).read().splitlines() == lines
    assert len(df2) == 2


def test_a_failed_point_is_recorded_and_the_others_go_on(tmp_path):
    path = write(tmp_path, BASE.replace('broadcast = ["zab", "raft"]',
                                        'broadcast = ["zab", "paxos"]'))
    df = experiment.run(path, out=str(tmp_path / "out"), progress=False)
    by = {r["broadcast"]: r for _, r in df.iterrows()}
    assert by["zab"]["status"] == "ok"
    assert by["paxos"]["status"] == "failed"
    assert "paxos" in by["paxos"]["error"]


def test_the_same_file_gives_the_same_results(tmp_path):
    path = write(tmp_path, BASE)
    cols = ["broadcast", "ops", "reads", "stale_reads", "peer_messages_per_op"]
    a = experiment.run(path, out=str(tmp_path / "a"), progress=False)
    b = experiment.run(path, out=str(tmp_path / "b"), progress=False)
    key = lambda df: df[cols].sort_values("broadcast").reset_index(drop=True)
    assert key(a).equals(key(b))


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(REPO, "experiments", "*.toml"))))
def test_shipped_experiments_run_quick(tmp_path, path):
    df = experiment.run(path, out=str(tmp_path / "out"), quick=True, progress=False)
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"].to_dict("records")


def test_zk_table1_quick_measures_throughput_deterministically(tmp_path):
    """The shipped cluster-size experiment on the performance model: every point measures a
    throughput, and a point run again gives the very same numbers (one seed, simulated time)."""
    path = os.path.join(REPO, "experiments", "zk_table1.toml")
    df = experiment.run(path, out=str(tmp_path / "out"), quick=True, progress=False)
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"].to_dict("records")
    assert (df["throughput_ops_s"] > 0).all()
    assert set(df["nodes"]) == {3, 13}
    full_reads = df[df["read_percent"] == 100].set_index("nodes")["reads_per_s"]
    assert full_reads[13] > full_reads[3]  # reads are served where the client is connected
    point = experiment.load(path, quick=True).points()[0]
    a = experiment._run_point(point, 0, 1, 1)
    b = experiment._run_point(point, 0, 1, 1)
    keys = ("throughput_ops_s", "reads_per_s", "writes_per_s", "latency_ms_p50",
            "latency_ms_p99")
    assert [a[k] for k in keys] == [b[k] for k in keys]
