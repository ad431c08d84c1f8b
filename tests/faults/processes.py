"""The real processes a fault scenario controls: Redis, a proxy in front of PostgreSQL, and
the hub's web server, worker and beat."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import redis

from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    """Return a loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid: int) -> list[int]:
    """Return the pids of a process's children, read from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # The command name (field 2) may hold spaces; the parent pid follows its ')'.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry))
    return sorted(found)


class RedisServer:
    """A redis-server of the test's own on a free port: stop it, start it again, wipe it."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        """Start the server (empty: nothing is saved) and wait until it answers."""
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        wait_for(lambda: self._answers(client), what="Redis to start", timeout=10)

    @staticmethod
    def _answers(client: redis.Redis) -> bool:
        try:
            return client.ping()
        except redis.RedisError:
            return False

    def stop(self) -> None:
        """Stop the server by its pid; everything it held is gone."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    def wipe(self) -> None:
        """Forget every key (queued tasks, unacknowledged ones, rate-limit slots)."""
        redis.Redis(port=self.port).flushall()


class TcpProxy:
    """A loopback TCP proxy the test controls: cut every connection, refuse new ones, resume."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open: set[socket.socket] = set()
        self.upstream_ports: set[int] = set()  # every connection it made, as the server saw it
        self.refusing_until = 0.0
        self.running = True
        threading.Thread(target=self._accept, daemon=True, name="db-proxy").start()

    def _accept(self) -> None:
        while self.running:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if time.monotonic() < self.refusing_until:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self.lock:
                self.open |= {client, upstream}
                self.upstream_ports.add(upstream.getsockname()[1])
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            self._close(end)

    def _close(self, end: socket.socket) -> None:
        with self.lock:
            self.open.discard(end)
        _reset(end)

    def cut(self) -> None:
        """Drop every open connection at once, as a failover or a network fault does."""
        with self.lock:
            ends, self.open = list(self.open), set()
        for end in ends:
            _reset(end)

    def refuse(self, seconds: float) -> None:
        """Cut every connection and refuse new ones for `seconds`."""
        self.refusing_until = time.monotonic() + seconds
        self.cut()

    def resume(self) -> None:
        """Accept connections again now."""
        self.refusing_until = 0.0

    def stop(self) -> None:
        self.running = False
        self.listener.close()
        self.cut()


def _reset(end: socket.socket) -> None:
    """Close a socket so the other side learns at once; shutdown also wakes the thread
    blocked reading it (a plain close would leave the connection open underneath)."""
    try:
        end.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    end.close()


class HubProcess:
    """One of the hub's processes (web, worker, dispatcher, beat), its output in a log file."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], folder: Path) -> None:
        self.name, self.command, self.env = name, command, env
        self.log_path = folder / f"{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self) -> "HubProcess":
        log = open(self.log_path, "ab")  # noqa: SIM115 (closed with the process)
        self.process = subprocess.Popen(
            self.command,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def children(self) -> list[int]:
        """The process's children (a prefork worker's pool processes)."""
        return children(self.pid)

    def kill(self) -> None:
        """SIGKILL the process and all it started (its session): the scenario is over."""
        if self.process is None:
            return
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def web_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "integration_hub.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--threads",
        "4",
        "--worker-class",
        "gthread",
        "--timeout",
        "30",
        "--graceful-timeout",
        "5",
    ]


def beat_command(folder: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "integration_hub",
        "beat",
        "-l",
        "info",
        "-s",
        str(folder / "celerybeat-schedule"),
    ]


def dispatcher_command() -> list[str]:
    return [sys.executable, "manage.py", "dispatch"]
