"""The demo's supervisor restarts a process that stops, leaves the others alone, and
stops everything on Ctrl-C."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
SLEEPER = f"{sys.executable} -c 'import time; print(\"up\", flush=True); time.sleep(300)'"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def started(log: Path) -> dict[str, list[int]]:
    """Return the pids the supervisor reported starting, by process name."""
    pids: dict[str, list[int]] = {}
    for name, pid in re.findall(r"\| (\w+) started \(pid=(\d+)\)", log.read_text()):
        pids.setdefault(name, []).append(int(pid))
    return pids


def test_a_process_that_dies_is_restarted_alone_and_ctrl_c_stops_everything(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text(f"steady: {SLEEPER}\nvictim: {SLEEPER}\n")
    log = tmp_path / "supervisor.log"
    with open(log, "wb") as out:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "integration_hub.supervisor", str(procfile)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        pids = wait_for(lambda: len(started(log)) == 2 and started(log), what="both processes")
        os.kill(pids["victim"][0], signal.SIGKILL)
        pids = wait_for(
            lambda: len(started(log)["victim"]) == 2 and started(log),
            what="the killed process to be restarted",
        )
        assert "victim was killed by SIGKILL" in log.read_text()
        assert "Restarting it in 1 s; the other processes go on." in log.read_text()
        assert pids["steady"] == pids["steady"][:1] and alive(pids["steady"][0])
        supervisor.send_signal(signal.SIGINT)
        assert supervisor.wait(timeout=30) == 128 + signal.SIGINT
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
    assert not alive(pids["steady"][0]) and not alive(pids["victim"][1])
    assert "SIGINT received: stopping every process" in log.read_text()
