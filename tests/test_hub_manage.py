"""`./hub manage` runs manage.py with the demo's environment: the README's token command works
as written, where plain manage.py stops for want of the settings the demo sets."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(command: list[str], var: Path) -> subprocess.CompletedProcess:
    """Run a command in the repository with only what a fresh shell has, and HUB_VAR_DIR."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root")}
    env["HUB_VAR_DIR"] = str(var)
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_hub_manage_makes_the_readmes_api_token_on_the_demos_database(tmp_path):
    plain = run([sys.executable, "manage.py", "drf_create_token", "staff"], tmp_path)
    assert plain.returncode != 0 and "Set the environment variable SECRET_KEY" in plain.stderr

    for step in (["migrate", "--noinput"], ["seed_demo"]):
        done = run(["./hub", "manage", *step], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    made = run(["./hub", "manage", "drf_create_token", "staff"], tmp_path)
    assert made.returncode == 0, made.stderr
    token = made.stdout.split()[2]
    assert made.stdout.strip() == f"Generated token {token} for user staff"
    with sqlite3.connect(tmp_path / "demo.sqlite3") as db:
        (user,) = db.execute(
            "SELECT username FROM auth_user JOIN authtoken_token ON user_id = auth_user.id "
            "WHERE key = ?",
            (token,),
        ).fetchone()
    assert user == "staff"


def test_hub_manage_without_a_command_says_how_to_use_it(tmp_path):
    bare = run(["./hub", "manage"], tmp_path)
    assert bare.returncode == 2 and "Usage: ./hub manage COMMAND" in bare.stderr
