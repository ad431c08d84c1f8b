"""Kill points: nothing happens unless a point is named; a named point kills the process,
once per point when a once-folder is given."""

import os
import signal
import subprocess
import sys

REACH = "from integration_hub.faults import fault_point; fault_point('after_call:xero:x')"


def reach(env: dict[str, str]) -> int:
    """Run a process that reaches the point; return how it ended."""
    return subprocess.run([sys.executable, "-c", REACH], env=os.environ | env).returncode


def test_a_point_nobody_named_does_nothing():
    assert reach({"HUB_FAULT_POINTS": "before_call:xero:x"}) == 0


def test_a_named_point_kills_the_process_every_time_without_a_once_folder():
    for _ in range(2):
        assert reach({"HUB_FAULT_POINTS": "after_call:xero:x"}) == -signal.SIGKILL


def test_with_a_once_folder_the_point_kills_once_and_records_whom(tmp_path):
    env = {
        "HUB_FAULT_POINTS": "before_call:a:b,after_call:xero:x",
        "HUB_FAULT_ONCE_DIR": str(tmp_path),
    }
    assert reach(env) == -signal.SIGKILL
    assert reach(env) == 0  # the redelivered task runs on
    assert (tmp_path / "after_call_xero_x").read_text().isdigit()
