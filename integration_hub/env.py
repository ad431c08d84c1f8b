"""Typed readers for settings that come from the environment."""

import os
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured


def test_worker_environment() -> None:
    """In a pytest-xdist worker (gw0, gw1, ...), make NAME_GW1 (say) the worker's NAME and
    drop every NAME_GWn: `./hub test` gives each test worker Redis databases and a var
    folder of its own this way (pytest-django gives each its own test database), and the
    processes a test starts see plain variables it may set otherwise. Nothing outside
    pytest-xdist sets PYTEST_XDIST_WORKER."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "").upper()
    if not worker:
        return
    for name in [n for n in os.environ if re.fullmatch(r".+_GW\d+", n)]:
        value = os.environ.pop(name)
        if name.endswith(f"_{worker}"):
            os.environ[name.removesuffix(f"_{worker}")] = value


def env_str(name: str, default: str | None = None) -> str:
    """Return a variable's text, or the contents of the file named by NAME_FILE."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        with open(file_path, encoding="utf-8") as f:
            return f.read().strip()
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is None:
        raise ImproperlyConfigured(f"Set the environment variable {name} (or {name}_FILE).")
    return default


def env_bool(name: str, default: bool = False) -> bool:
    """Return a variable read as yes/no (1, true, yes, on)."""
    return env_str(name, "1" if default else "0").strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    """Return a variable read as a whole number."""
    text = env_str(name, str(default))
    try:
        return int(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {text!r}.") from exc


def env_float(name: str, default: float) -> float:
    """Return a variable read as a number (seconds, say)."""
    text = env_str(name, str(default))
    try:
        return float(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {text!r}.") from exc


def env_list(name: str, default: str = "") -> list[str]:
    """Return a comma-separated variable as a list, without blanks."""
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


def env_http_url(name: str, default: str = "") -> str:
    """Return a URL variable that must be http(s) (never file:, ftp: or data:), or blank."""
    value = env_str(name, default).strip()
    if value:
        parts = urlsplit(value)
        if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
            # The URL itself may hold a token (chat webhooks do): name only its scheme.
            raise ImproperlyConfigured(
                f"{name} must be an http:// or https:// URL; the value given starts with "
                f"{parts.scheme + ':' if parts.scheme else 'no scheme'}."
            )
    return value
