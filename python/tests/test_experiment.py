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


CL = "name = 'x'\nquestion = 'q'\nbackend = 'cluster'\n"


@pytest.mark.parametrize("text,message", [
    ("name = 'x'\nquestion = 'q'\ncolour = 1\n", "colour: unknown key; allowed:"),
    ("question = 'q'\n", "name: required"),
    ("name = 'x'\nquestion = 'q'\nbackend = 'moon'\n", "backend: 'moon' is not available"),
    ("name = 'x'\nquestion = 'q'\nrepetitions = 0\n", "repetitions: a positive integer"),
    ("name = 'x'\nquestion = 'q'\n[seeds]\ncount = -1\n", "seeds.count: a positive integer"),
    ("name = 'x'\nquestion = 'q'\n[settings]\nnodez = 3\n",
     "settings.nodez: unknown setting for the sim backend; allowed: broadcast"),
    ("name = 'x'\nquestion = 'q'\n[settings]\nnodes = 'three'\n",
     "settings.nodes: must be a non-negative integer"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = []\n", "axes.nodes: an axis needs"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = [3, 'five']\n", "axes.nodes[1]: must be"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nnodes = { from = 5, to = 3 }\n", "axes.nodes: from"),
    ("name = 'x'\nquestion = 'q'\n[[plots]]\nkind = 'pie'\nx = 'nodes'\ny = 'reads'\n",
     "plots[0].kind: one of bar, line, scatter, cdf, timeline"),
    ("name = 'x'\nquestion = 'q'\n[[plots]]\nkind = 'bar'\nx = 'nodes'\ny = 'joy'\n",
     "plots[0].y: 'joy' is not a column"),
    ("name = 'x'\nquestion = 'q'\n[quick]\nplots = []\n", "quick.plots: only settings"),
    ("name = = 'x'\n", "not valid TOML"),
    # the cluster backend
    (CL + "[settings]\nfaults = 'all'\n",
     "settings.faults: unknown setting for the cluster backend; allowed: system"),
    (CL + "[settings]\nsystem = 'etcd'\n", "settings.system: one of quorumlab, zookeeper"),
    (CL + "[settings]\nread_pct = 101\n", "settings.read_pct: a percentage"),
    (CL + "[settings]\nduration = -1\n", "settings.duration: must be a non-negative number"),
    (CL + "[settings]\nfault = 'nuke'\n", "settings.fault: one of kill, pause"),
    (CL + "[settings]\nsystem = 'zookeeper'\nworkload = 'failover'\n",
     "point 1 \\(the only point\\): system .zookeeper. runs the bench workload only"),
    (CL + "[settings]\nworkload = 'timeline'\n", "the timeline workload needs a schedule"),
    (CL + "[settings]\nschedule = [{ at = 1, what = 'melt', node = 'leader' }]\n",
     "settings.schedule[0].what: one of kill, pause"),
    (CL + "[settings]\nschedule = [{ at = 1, what = 'kill', node = 'boss' }]\n",
     "settings.schedule[0].node: leader, follower or a node id"),
    (CL + "[settings]\nschedule = [{ at = 3, what = 'kill', node = 1, recover_at = 2 }]\n",
     "settings.schedule[0].recover_at: must be after at"),
    (CL + "[settings]\nschedule = [{ at = 3, what = 'kill' }]\n",
     "settings.schedule[0]: a table with at"),
    (CL + "[settings]\nnodes = 3\nschedule = [{ at = 3, what = 'kill', node = 7 }]\n",
     "schedule node 7 does not exist"),
    (CL + "[[plots]]\nkind = 'cdf'\nx = 'ops_per_s'\n",
     "plots[0].x: a cdf plots a column of per-trial values: failover_ms"),
    (CL + "[[plots]]\nkind = 'timeline'\nx = 'errors'\n", "a timeline plots x = 't'"),
    # companion runs of a simulator experiment
    ("name = 'x'\nquestion = 'q'\n[model]\nnodez = 3\n",
     "model.nodez: unknown setting for the sim backend"),
    ("name = 'x'\nquestion = 'q'\n[cluster]\nfaults = 'all'\n",
     "cluster.faults: unknown setting for the cluster backend"),
    (CL + "[model]\nnodes = 3\n", "model: a [model] companion run belongs to a simulator"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nvariant = [{ nodes = 3 }]\n",
     "axes.variant[0]: a table of settings with a label"),
    ("name = 'x'\nquestion = 'q'\n[axes]\nvariant = [{ label = 'a', nodez = 3 }]\n",
     "axes.variant[0].nodez: unknown setting"),
    ("name = 'x'\nquestion = 'q'\n[[plots]]\nkind = 'bar'\nx = 'nodes'\ny = 'reads'\n"
     "only = [3]\n", "plots[0].only: a list of the series"),
])
def test_bad_files_are_refused_naming_the_key(tmp_path, text, message):
    with pytest.raises(ExperimentError, match=message.replace("[", r"\[").replace("]", r"\]")):
        experiment.load(write(tmp_path, text))


def test_a_variant_axis_bundles_settings_under_a_label(tmp_path):
    path = write(tmp_path, "name = 'x'\nquestion = 'q'\n[settings]\nbroadcast = 'raft'\n"
                           "broadcast_params = { prevote = true }\n[axes]\nvariant = [\n"
                           "  { label = 'a', nodes = 3 },\n"
                           "  { label = 'b', nodes = 5, broadcast_params = { check_quorum = true } },"
                           "\n]\n")
    points = experiment.load(path).points()
    assert points == [
        {"broadcast": "raft", "broadcast_params": {"prevote": True}, "nodes": 3, "label": "a"},
        {"broadcast": "raft", "broadcast_params": {"prevote": True, "check_quorum": True},
         "nodes": 5, "label": "b"}]
    assert "--nodes" in experiment._sim_args(points[1], 1, 1)


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
    assert os.path.exists(tmp_path / "out" / "summary.md")
    name = os.path.basename(path)
    if name == "raft_fig16.toml":  # Figure 16's shape, and a CDF from the per-trial times
        assert all(len(t) == 20 for t in df["election_ms_trials"])
        median = df.set_index("label")["election_ms_median"]
        assert median["150-300"] < median["150-155"] < median["150-150"]
        assert os.path.exists(tmp_path / "out" / "plot1.png")
    if name == "disruptive_server.toml":  # thesis 9.6: PreVote stops the disruption
        terms = df.set_index("broadcast")["terms_per_round"]
        assert terms["raft"] > 0 and terms["raft-prevote"] == 0


def test_replay_reproduces_every_seed_bit_for_bit_and_catches_a_difference(tmp_path):
    out = str(tmp_path / "out")
    df = experiment.run(write(tmp_path, BASE), out=out, progress=False)
    assert df["trace_digest"].notna().all()
    res = experiment.replay(out, 2)
    assert res["seeds"] == 3 and res["mismatches"] == []
    one = experiment.replay(out, 1, seed=2, trace=str(tmp_path / "seed2.trace"))
    assert one["seeds"] == 1 and one["mismatches"] == []
    assert os.path.getsize(tmp_path / "seed2.trace") > 0
    # A recorded digest that the run no longer gives is reported with its seed.
    raw = os.path.join(out, "raw", "point1-rep0.json")
    report = json.load(open(raw))
    report["trace_digests"][1] = "0" * 16
    json.dump(report, open(raw, "w"))
    bad = experiment.replay(out, 1)
    assert [m[0] for m in bad["mismatches"]] == [2]
    with pytest.raises(ExperimentError, match="point: 1..2"):
        experiment.replay(out, 3)


def test_a_dask_cluster_gives_the_same_results_as_local_processes(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    path = write(tmp_path, BASE)
    local = experiment.run(path, out=str(tmp_path / "local"), progress=False)
    # the workers are new processes: they import quorumlab from this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [os.path.join(REPO, "python")] + os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        remote = experiment.run(path, out=str(tmp_path / "dask"), progress=False,
                                scheduler=cluster.scheduler_address)
    key = lambda df: df[["broadcast", "ops", "trace_digest"]].sort_values("broadcast") \
        .reset_index(drop=True)
    assert key(local).equals(key(remote))


def test_a_cluster_point_that_cannot_start_is_recorded_with_its_error(tmp_path):
    path = write(tmp_path, CL + "[settings]\nbroadcast = 'paxos'\nduration = 1\n")
    df = experiment.run(path, out=str(tmp_path / "out"), progress=False)
    assert df.iloc[0]["status"] == "failed"
    assert "no broadcast plugin named 'paxos'" in df.iloc[0]["error"]


def test_a_failing_seed_leaves_its_whole_trace_in_the_folder(tmp_path):
    # zab with local reads held to linearizability: some of these ten seeds read a stale value
    text = ("name = 't'\nquestion = 'q'\n[seeds]\nfirst = 1\ncount = 10\n[settings]\n"
            "broadcast = 'zab'\nread_policy = 'local'\nfaults = 'all'\n"
            "check_linearizable_reads = true\n")
    out = str(tmp_path / "out")
    df = experiment.run(write(tmp_path, text), out=out, progress=False)
    row = df.iloc[0]
    assert row["failed"] >= 1
    trace = os.path.join(out, row["failed_seed_trace"])
    assert os.path.getsize(trace) > 0


def test_zk_table1_quick_measures_throughput_deterministically(tmp_path):
    """The shipped cluster-size experiment on the performance model: every point measures a
    throughput, and a point run again gives the very same numbers (one seed, simulated time)."""
    path = os.path.join(REPO, "experiments", "zk_table1.toml")
    df = experiment.run(path, out=str(tmp_path / "out"), quick=True, progress=False)
    assert (df["status"] == "ok").all(), df[df["status"] != "ok"].to_dict("records")
    assert (df["throughput_ops_s"] > 0).all()
    assert set(df["nodes"]) == {3, 13}
    full_reads = df[df["read_pct"] == 100].set_index("nodes")["reads_per_s"]
    assert full_reads[13] > full_reads[3]  # reads are served where the client is connected
    point = experiment.load(path, quick=True).points()[0]
    a = experiment._run_sim_point(point, 0, 1, 1)[0]
    b = experiment._run_sim_point(point, 0, 1, 1)[0]
    keys = ("throughput_ops_s", "reads_per_s", "writes_per_s", "latency_ms_p50",
            "latency_ms_p99")
    assert [a[k] for k in keys] == [b[k] for k in keys]
