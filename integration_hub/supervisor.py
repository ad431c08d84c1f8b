"""Run the demo's processes from a Procfile, restarting each one on its own when it exits.

honcho stops every process as soon as one exits, so one crash took the whole demo down.
Here a process that exits is started again after a short backoff (1 s, doubling to 30 s,
back to 1 s once it has stayed up a minute), with a line saying why it stopped; the
others go on. Ctrl-C or SIGTERM stops them all. It reuses honcho's parts (the Procfile
format, its coloured printer), so adding a process is one Procfile line. supervisord would
restart processes too, but it needs a config section per process, prints their output
without their names and gives up on a process that keeps failing to start.

Run: python -m integration_hub.supervisor Procfile.demo
"""

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from honcho.colour import get_colours
from honcho.compat import ProcessManager
from honcho.environ import parse_procfile
from honcho.printer import Message, Printer

FIRST_BACKOFF, MAX_BACKOFF = 1.0, 30.0
# A process that stayed up this long is healthy again: its next restart waits FIRST_BACKOFF.
STEADY_SECONDS = 60.0
# How long processes get to stop after SIGTERM before they are killed.
STOP_SECONDS = 10.0
SYSTEM = "system"
QUEUES = "default,hubspot,xero,operations"


def worker_command(name: str, *, concurrency: int = 3, loglevel: str = "info") -> list[str]:
    """A Celery worker on every queue with the prefork pool production runs: the tests, the
    fault suite and the benchmarks start theirs with this line."""
    return [
        *(sys.executable, "-m", "celery", "-A", "integration_hub", "worker"),
        *("-Q", QUEUES, "--pool", "prefork", "-c", str(concurrency), "-l", loglevel),
        *("--without-mingle", "--without-gossip", "-n", f"{name}@%h"),
    ]


@dataclass
class Child:
    """One Procfile process and what the supervisor knows about its current run."""

    command: str
    colour: str
    pid: int | None = None
    running: bool = False
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None
    restarts: int = 0
    last_line: str = ""


def exit_reason(returncode: int) -> str:
    """Return how a process ended, in words."""
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    try:  # a shell reports a signal as 128 + its number
        return f"exited with status {returncode} ({signal.Signals(returncode - 128).name})"
    except ValueError:
        return f"exited with status {returncode}"


def _terminate(pid: int) -> None:
    """Send SIGTERM to one process: a Celery worker then stops its pool processes itself."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


class Supervisor:
    """Start every process, restart any that exits, stop them all on a signal."""

    def __init__(self, commands: dict[str, str], *, output=sys.stdout) -> None:
        self.events: queue.Queue[Message] = queue.Queue()
        self.printer = Printer(output, width=max(len(name) for name in [*commands, SYSTEM]))
        colours = get_colours()
        self.children = {name: Child(command, next(colours)) for name, command in commands.items()}
        self.signals = ProcessManager()
        self.stopping_since: float | None = None
        self.returncode = 0

    def say(self, text: str) -> None:
        self.printer.write(Message("line", text, datetime.now(), SYSTEM, None))

    def run(self) -> int:
        """Supervise until a signal asks to stop and every process has stopped."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._stop)
        for name in self.children:
            self._start(name)
        while self.stopping_since is None or any(c.running for c in self.children.values()):
            try:
                self._handle(self.events.get(timeout=0.1))
            except queue.Empty:
                pass
            self._restart_due()
            if (
                self.stopping_since is not None
                and time.monotonic() - self.stopping_since > STOP_SECONDS
            ):
                self._signal_all(kill=True)
        return self.returncode

    def _start(self, name: str) -> None:
        child = self.children[name]
        child.running, child.restart_at, child.started_at = True, None, time.monotonic()
        threading.Thread(target=self._run, args=(name, child), daemon=True).start()

    def _run(self, name: str, child: Child) -> None:
        """Run the process once in its own session; report its start, its lines and its end.

        Its end is its exit, not the end of its output: a killed worker's pool processes
        may hold the output open until they are stopped.
        """
        # exec: the pid shown is the process itself, not a shell around it.
        process = subprocess.Popen(
            f"exec {child.command}",
            shell=True,
            start_new_session=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # Python's output reaches the console line by line, not in 8 KiB blocks.
            env=os.environ | {"PYTHONUNBUFFERED": "1"},
        )
        self.events.put(Message("start", process.pid, datetime.now(), name, child.colour))
        reader = threading.Thread(target=self._read, args=(name, child, process.stdout))
        reader.start()
        returncode = process.wait()
        reader.join(timeout=1)  # its last lines, usually why it stopped, come first
        self.events.put(Message("stop", returncode, datetime.now(), name, child.colour))

    def _read(self, name: str, child: Child, output) -> None:
        for line in iter(output.readline, b""):
            self.events.put(Message("line", line, datetime.now(), name, child.colour))
        output.close()

    def _handle(self, message: Message) -> None:
        child = self.children[message.name]
        if message.type == "line":
            child.last_line = message.data.decode("utf-8", "replace").strip() or child.last_line
            self.printer.write(message)
        elif message.type == "start":
            child.pid = message.data
            again = f" (restart {child.restarts})" if child.restarts else ""
            self.say(f"{message.name} started (pid={child.pid}){again}")
            if self.stopping_since is not None:
                _terminate(child.pid)
        elif message.type == "stop":
            self._stopped(message.name, child, message.data)

    def _stopped(self, name: str, child: Child, returncode: int) -> None:
        child.running = False
        # Whatever the process left behind (a killed worker's pool processes) goes with it.
        self.signals.kill(child.pid)
        if self.stopping_since is not None:
            self.say(f"{name} stopped ({exit_reason(returncode)})")
            return
        up = time.monotonic() - child.started_at
        if up >= STEADY_SECONDS:
            child.backoff = FIRST_BACKOFF
        child.restart_at = time.monotonic() + child.backoff
        child.restarts += 1
        said = f'; its last line: "{child.last_line[:200]}"' if child.last_line else ""
        self.say(
            f"{name} {exit_reason(returncode)} after {up:.0f} s{said}. "
            f"Restarting it in {child.backoff:.0f} s; the other processes go on."
        )
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def _restart_due(self) -> None:
        if self.stopping_since is not None:
            return
        for name, child in self.children.items():
            if child.restart_at is not None and time.monotonic() >= child.restart_at:
                self._start(name)

    def _stop(self, signum: int, frame) -> None:
        if self.stopping_since is not None:
            return
        self.returncode = 128 + signum
        self.stopping_since = time.monotonic()
        self.say(f"{signal.Signals(signum).name} received: stopping every process")
        self._signal_all(kill=False)

    def _signal_all(self, *, kill: bool) -> None:
        """Ask each running process to stop (it stops its own children), or kill its group."""
        for child in self.children.values():
            if child.running and child.pid is not None:
                if kill:
                    self.signals.kill(child.pid)
                else:
                    _terminate(child.pid)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("Usage: python -m integration_hub.supervisor PROCFILE", file=sys.stderr)
        return 2
    commands = parse_procfile(Path(argv[0]).read_text()).processes
    return Supervisor(dict(commands)).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
