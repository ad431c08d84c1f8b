"""Shared start for the benchmarks: Django against the PostgreSQL database `hub_bench`."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hub_bench")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")


def bench_django() -> None:
    """Create the bench database if needed, start Django and migrate."""
    import django
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        if not c.execute("SELECT 1 FROM pg_database WHERE datname = 'hub_bench'").fetchone():
            c.execute("CREATE DATABASE hub_bench")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
