"""`qlab bench --protocol zookeeper` (the jute client of kernel/zkwire/bench.hpp) for about one
second against a 3-node `qlab cluster` (zab, wal; sessions spread over the connect string) and
against one `qlab server`: the JSON summary shows reads and writes done and no errors."""
import json
import subprocess

import pytest

from conftest import QLAB

DURATION_S = 1


def bench(connect, root, read_pct=50):
    args = [QLAB, "bench", "--protocol", "zookeeper", "--connect", connect, "--sessions", "3",
            "--outstanding", "8", "--keys", "20", "--value-bytes", "100", "--read-pct",
            str(read_pct), "--duration", str(DURATION_S), "--warmup", "0", "--root", root,
            "--timeout-ms", "10000", "--json"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    lines = [l for l in out.stdout.splitlines() if l.strip()]
    assert len(lines) == 1, out.stdout  # --json: one line on stdout, the rest on stderr
    return json.loads(lines[0]), out.stderr


@pytest.mark.parametrize("target", ["cluster", "server"])
def test_bench_zookeeper_protocol_reports_reads_and_writes(request, target):
    if target == "cluster":
        connect = request.getfixturevalue("cluster").connect
    else:
        connect = request.getfixturevalue("server").zk_address
    j, stderr = bench(connect, "/bench-" + target)
    assert j["protocol"] == "zookeeper"
    assert j["sessions"] == 3 and j["outstanding"] == 8 and j["read_pct"] == 50
    assert j["errors"] == {}, j["errors"]
    assert j["ops"] > 0 and j["ops_per_s"] > 0
    assert j["reads_per_s"] > 0 and j["writes_per_s"] > 0
    # 50% reads: neither kind may starve (the choice is random per request, seeded).
    assert 0.3 < j["reads_per_s"] / j["ops_per_s"] < 0.7
    assert 0 < j["latency_us"]["p50"] <= j["latency_us"]["p999"] <= j["latency_us"]["max"]
    assert "ops/s" in stderr  # the per-second lines


def test_native_bench_reports_the_servers_read_counters(cluster):
    """The native bench also reports what the servers did for the measured period's reads
    (server-side counters of every server in the connect string, summed)."""
    native = ",".join("127.0.0.1:%d" % n["client_port"] for n in cluster.status())
    args = [QLAB, "bench", "--connect", native, "--sessions", "2", "--outstanding", "4",
            "--keys", "10", "--value-bytes", "10", "--read-pct", "80", "--duration", "1",
            "--warmup", "0", "--root", "/bench-native", "--json"]
    out = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    j = json.loads(out.stdout.strip().splitlines()[-1])
    c = j["server_read_counters"]
    # The fixture's cluster uses the local policy: every read the servers served was local,
    # and they served at least the reads the bench counted (a reply may be lost on close).
    reads = j["reads_per_s"] * j["duration_s"]
    assert c["reads_local"] >= 0.9 * reads > 0, (c, reads)
    assert c["reads_read_index"] == 0 and c["lease_hits"] == 0
