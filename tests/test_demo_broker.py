"""The demo's broker survives empty and half-written message files (a real worker process)."""

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from kombu import Connection

from integration_hub.demo_broker import broker_folders
from integration_hub.supervisor import worker_command
from tests.helpers import wait_for

ROOT = Path(__file__).resolve().parent.parent
TRANSPORT = "integration_hub.demo_broker:Transport"
BAD_MESSAGES = {"empty": b"", "half-written": b'{"body": "eyJhcmdzIjog', "not a message": b"[]"}


def bad_files_write(folder: Path) -> list[str]:
    """Drop unreadable files into a queue folder, named as kombu names messages, oldest first."""
    names = []
    for n, content in enumerate(BAD_MESSAGES.values()):
        name = f"0{n}_{uuid.uuid4()}.default.msg"  # before any real message (no leading 0)
        (folder / name).write_bytes(content)
        names.append(name)
    return names


def test_a_reader_sets_aside_unreadable_files_and_delivers_the_next_message(tmp_path):
    options = broker_folders(tmp_path)
    with Connection("filesystem://", transport=TRANSPORT, transport_options=options) as conn:
        channel = conn.default_channel
        bad = bad_files_write(Path(options["data_folder_in"]))
        channel._put("default", {"body": "good", "properties": {}})
        assert channel._get("default") == {"body": "good", "properties": {}}
    assert sorted(os.listdir(options["broken_folder"])) == sorted(bad)
    assert os.listdir(options["staging_folder"]) == []
    assert os.listdir(options["processing_folder"]) == []


@pytest.fixture
def demo_environment(tmp_path) -> dict[str, str]:
    """The environment of the demo's processes, in a fresh var folder with a migrated database."""
    environment = os.environ | {
        "HUB_DEMO": "1",
        "HUB_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "REDIS_URL": "",
    }
    manage = [sys.executable, "manage.py"]
    subprocess.run(
        [*manage, "migrate", "--noinput"],
        env=environment,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return environment


def heartbeat(tmp_path: Path) -> str | None:
    """Return the time the demo worker last ran the heartbeat task, read from its database."""
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        row = db.execute("SELECT beat_at FROM handoffs_workerheartbeat").fetchone()
    return row[0] if row else None


def test_the_demo_worker_survives_an_empty_and_a_half_written_message(tmp_path, demo_environment):
    log = open(tmp_path / "worker.log", "wb")  # noqa: SIM115 (closed below)
    worker = subprocess.Popen(
        worker_command(f"test-demo-{os.getpid()}", concurrency=1),
        env=demo_environment,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # The worker reports in through the broker once it is ready.
        first = wait_for(
            lambda: worker.poll() is not None or heartbeat(tmp_path),
            what="the worker's first heartbeat",
            timeout=60,
        )
        assert worker.poll() is None, "The worker did not start; see worker.log"
        queue_folder = tmp_path / "broker" / "out"
        bad = bad_files_write(queue_folder)
        wait_for(
            lambda: worker.poll() is not None or not set(bad) & set(os.listdir(queue_folder)),
            what="the worker to take the bad files",
        )
        assert worker.poll() is None, "The worker died on an unreadable message"
        assert sorted(os.listdir(tmp_path / "broker" / "broken")) == sorted(bad)
        send = "from integration_hub.celery import app; app.send_task('handoffs.tasks.heartbeat')"
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", send],
            env=demo_environment,
            cwd=ROOT,
            check=True,
        )
        wait_for(lambda: heartbeat(tmp_path) != first, what="the worker to run the next task")
        assert worker.poll() is None
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    assert "Set aside an unreadable message (0 bytes)" in (tmp_path / "worker.log").read_text()
