"""qlab soak and qlab check on real clusters (issue 19): a short soak under kill -9 and
partitions passes; its recorded history passes `qlab check`; the same history with a planted
lost acknowledged write or a planted stale read is caught, by the property that names it; bad
input is refused with exit code 2 and a message naming the problem."""
from __future__ import annotations

import json
import subprocess

import pytest

from quorumlab import _native

QLAB = _native.bin_dir() + "/qlab"


def qlab(*args, timeout=600):
    return subprocess.run([QLAB, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def soak(tmp_path_factory):
    d = tmp_path_factory.mktemp("soak") / "c"
    r = qlab("soak", "--dir", str(d), "--duration", "8", "--interval", "2", "--mix",
             "kill,partition,pause", "--seed", "3", "--rate", "300", "--keep", "--json")
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    verdict = json.loads(r.stdout)
    return d, verdict


def load(path):
    lines = path.read_text().splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def save(path, header, ops):
    ops.sort(key=lambda o: o["invoke_us"])
    for i, op in enumerate(ops):
        op["id"] = i
    path.write_text("\n".join(json.dumps(x) for x in [header, *ops]) + "\n")


def check(path, *extra):
    r = qlab("check", str(path), "--json", *extra)
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def acked_sets(ops, key):
    return [o for o in ops if o["key"] == key and o["op"] in ("set", "create")
            and o["complete_us"] is not None and o["err"] == 0]


def test_soak_passes_and_reports(soak):
    d, v = soak
    assert v["verdict"] == "PASS"
    assert v["faults"] >= 3
    assert v["writes_lost"] == 0
    assert v["writes_acknowledged"] > 100
    assert (d / "history.jsonl").exists() and (d / "nemesis.log").exists()


def test_the_recorded_history_passes_both_models(soak):
    d, _ = soak
    for model in ("zookeeper", "linearizable"):
        rc, out = check(d / "history.jsonl", "--model", model)
        assert rc == 0, out
        assert out["writes_lost"] == 0 and out["keys_with_final_read"] == 20


def test_a_planted_lost_write_is_caught(soak, tmp_path):
    d, _ = soak
    header, ops = load(d / "history.jsonl")
    key = max({o["key"] for o in ops}, key=lambda k: len(acked_sets(ops, k)))
    sets = acked_sets(ops, key)
    final = [o for o in ops if o["key"] == key and o["op"] == "get"][-1]
    # The final read shows the key as the second-to-last acknowledged write left it.
    final["observed"] = dict(sets[-2]["observed"])
    save(tmp_path / "lost.jsonl", header, ops)
    rc, out = check(tmp_path / "lost.jsonl")
    assert rc == 1
    assert out["violation"]["property"] == "acknowledged_write_lost"
    assert out["writes_lost"] >= 1
    assert sets[-1]["data"] in out["violation"]["message"]


def test_a_planted_stale_read_fails_linearizability_only(soak, tmp_path):
    d, _ = soak
    header, ops = load(d / "history.jsonl")
    key = max({o["key"] for o in ops}, key=lambda k: len(acked_sets(ops, k)))
    sets = acked_sets(ops, key)
    before, after = sets[len(sets) // 2 - 1], sets[len(sets) // 2]
    # A new session reads, just after `after` was acknowledged, what `before` left: a lagging
    # server's answer at `before`'s zxid. ZooKeeper allows it; linearizability does not.
    t = after["complete_us"] + 1
    ops.append({"client": 999, "session": 999, "op": "get", "key": key, "invoke_us": t,
                "complete_us": t + 50, "err": 0, "zxid": before["observed"]["mzxid"],
                "observed": dict(before["observed"]), "id": 0})
    save(tmp_path / "stale.jsonl", header, ops)
    rc, out = check(tmp_path / "stale.jsonl", "--model", "zookeeper")
    assert rc == 0, out
    assert out["stale_reads"] == 1
    rc, out = check(tmp_path / "stale.jsonl", "--model", "linearizable")
    assert rc == 1
    assert out["violation"]["property"] == "linearizable"
    assert key in out["violation"]["message"]


def test_bad_input_is_refused_with_exit_code_2(tmp_path):
    r = qlab("check", str(tmp_path / "missing.jsonl"))
    assert r.returncode == 2 and "cannot read the history file" in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"quorumlab_history": 1}\n{"id": 0, "op": "put"}\n')
    r = qlab("check", str(bad))
    assert r.returncode == 2 and "bad.jsonl:2" in r.stderr, r.stderr
    r = qlab("soak", "--mix", "kill,earthquake", "--dir", str(tmp_path / "s"))
    assert r.returncode == 2 and "unknown fault 'earthquake'" in r.stderr
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    r = qlab("soak", "--dir", str(tmp_path / "full"))
    assert r.returncode == 2 and "is not empty" in r.stderr
    r = qlab("bench", "--connect", "127.0.0.1:1", "--protocol", "zookeeper", "--history",
             str(tmp_path / "h.jsonl"))
    assert r.returncode != 0 and "need the native protocol" in r.stderr, r.stderr


def test_python_bench_records_a_history_that_check_history_passes(tmp_path):
    from quorumlab import Cluster, check_history
    with Cluster(nodes=3, broadcast="raft", storage="memory", dir=str(tmp_path / "c")) as c:
        path = str(tmp_path / "h.jsonl")
        r = c.bench(read_pct=50, sessions=4, outstanding=2, duration=2, warmup=0, keys=10,
                    value_bytes=16, history=path, rate=400)
        assert r["history"]["final_reads"] == 10
        assert 300 < r["history"]["ops"] < 2000  # about 400/s for 2 s, plus setup and finals
    out = check_history(path, model="linearizable")
    assert out["ok"], out
    assert out["writes_acknowledged"] > 100 and out["keys_with_final_read"] == 10
    with pytest.raises(ValueError, match="cannot read the history file"):
        check_history(str(tmp_path / "nope.jsonl"))
