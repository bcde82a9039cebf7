"""Apache ZooKeeper's C client (libzookeeper_mt, async API) against `qlab server --zk-port 0`:
runs zk_c_async_test (built by CMake), which checks completions and watch events in order."""
import os
import subprocess

import pytest

C_TEST = os.environ.get("ZK_C_TEST")


@pytest.mark.skipif(not C_TEST, reason="zk_c_async_test not built (libzookeeper-mt-dev missing)")
def test_c_client_async_api(server):
    out = subprocess.run([C_TEST, server.zk_address], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "all checks passed" in out.stdout
