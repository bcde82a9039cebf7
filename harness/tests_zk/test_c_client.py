"""Apache ZooKeeper's C client (libzookeeper_mt, async API) against a 3-node `qlab cluster`
(zab, wal): runs zk_c_async_test (built by CMake), which checks completions and watch events in
order, once on a follower (writes forwarded to the leader) and once with the full connect
string (the C client picks a server at random)."""
import os
import subprocess

import pytest

C_TEST = os.environ.get("ZK_C_TEST")


@pytest.mark.skipif(not C_TEST, reason="zk_c_async_test not built (libzookeeper-mt-dev missing)")
@pytest.mark.parametrize("target", ["follower", "connect string"])
def test_c_client_async_api(cluster, target):
    hosts = (cluster.zk_address(cluster.followers()[0]) if target == "follower"
             else cluster.connect)
    out = subprocess.run([C_TEST, hosts], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
