"""The compose file and the Dockerfile as the README's deployment uses them."""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
ENV_READERS = {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_http_url"}


def settings_variables() -> dict[str, bool]:
    """Return each variable settings.py reads, and whether production requires it."""
    tree = ast.parse((ROOT / "integration_hub" / "settings.py").read_text())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ENV_READERS:
            default = node.args[1] if len(node.args) > 1 else None
            # demo_default(...) alone means "no default outside the demo".
            required = isinstance(default, ast.Call) and default.func.id == "demo_default"
            found[node.args[0].value] = required
    return found


def hub_services() -> dict[str, dict]:
    """Return the compose services that run the hub's image."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return {name: s for name, s in compose["services"].items() if "build" in s}


def documented_variables() -> set[str]:
    """Return the variables named in the first column of the README's settings table."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Settings (environment variables)")[1].split("\n## ")[0]
    rows = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row)}


def test_every_hub_container_gets_the_whole_env_file():
    services = hub_services()
    assert set(services) == {"migrate", "web", "worker", "dispatcher", "beat"}
    for name, service in services.items():
        assert service.get("env_file") == ".env", name


def test_every_variable_settings_reads_is_passed_by_compose_or_documented_as_optional():
    passed = set(hub_services()["web"]["environment"])
    variables = settings_variables()
    required = {name for name, needed in variables.items() if needed}
    assert required - passed == set(), "required outside the demo: compose must set these"
    assert set(variables) - passed - documented_variables() == set(), "add to README's table"


def test_the_image_build_stops_when_an_install_fails():
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        assert not re.search(r"\|\|\s*(true|:)\s*$", line), line


def test_evidence_files_outlive_the_web_container():
    volumes = hub_services()["web"]["volumes"]
    assert "media:/app/var/media" in volumes
