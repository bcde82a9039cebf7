"""The lab graders catch planted bugs: a copy of a reference solution with one bug must fail
the test that is about it, with its message and replay command (a grader that stopped
checking would let these through)."""
from __future__ import annotations

import shutil
import subprocess
import sys

from quorumlab import lab


def planted(tmp_path, name, file, old, new):
    l = lab.find_lab(name)
    work = tmp_path / name
    shutil.copytree(l.folder / "instructor" / "solution", work)
    src = (work / file).read_text()
    assert old in src, f"the plant does not apply to {file}"
    (work / file).write_text(src.replace(old, new, 1))
    return work


def check(name, work, only):
    r = subprocess.run([sys.executable, "-m", "quorumlab.lab", "check", name, "--dir",
                        str(work), "--only", only], capture_output=True, text=True, timeout=280)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "hint: " in r.stdout and "replay: " in r.stdout, r.stdout
    return r.stdout


def test_recipes_a_lock_that_lets_two_hold_it(tmp_path):
    work = planted(tmp_path, "recipes", "recipes.py", "            if i == 0:\n                return True",
                   "            if i <= 1:\n                return True")
    # The held-lock probe catches it every time (the contention run most of the time).
    out = check("recipes", work, "acquire with a timeout")
    assert "on a held lock did not return False" in out, out


def test_recipes_a_lock_with_the_herd_effect(tmp_path):
    work = planted(tmp_path, "recipes", "recipes.py",
                   "            if retry(self.client, self.client.exists, before,\n"
                   "                     watch=lambda e: woke.set()) is None:\n"
                   "                continue",
                   "            retry(self.client, self.client.get_children, self.path,\n"
                   "                  watch=lambda e: woke.set())")
    assert "every waiter wakes up" in check("recipes", work, "herd")


def test_znodes_a_watcher_that_reports_duplicates(tmp_path):
    work = planted(tmp_path, "znodes", "membership.py",
                   "        if members != self._last:", "        if True:")
    out = check("znodes", work, "expiry of its session")
    assert "extra report" in out or "the callback reported" in out, out


def test_znodes_a_publish_that_writes_before_deleting_ready(tmp_path):
    work = planted(tmp_path, "znodes", "config_watcher.py",
                   "    client.create(f\"{root}/ready\", str(version).encode())",
                   "    try:\n        client.delete(f\"{root}/ready\")\n    except NoNodeError:\n"
                   "        pass\n    client.create(f\"{root}/ready\", str(version).encode())")
    # and the first deletion goes: ready is deleted only after the keys were written
    src = (work / "config_watcher.py").read_text()
    first = "    try:\n        client.delete(f\"{root}/ready\")\n    except NoNodeError:\n        pass\n    for key"
    assert first in src
    (work / "config_watcher.py").write_text(src.replace(first, "    for key", 1))
    out = check("znodes", work, "publish deletes ready")
    assert "not the deletion of ready" in out, out
