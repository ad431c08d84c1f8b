"""Shared start for the benchmarks: Django on a database and Redis databases of the bench's own.

A bench never touches what it did not create. `owned(name, redis=...)`, called before
Django starts, points DATABASE_URL at a new database (`hub_bench_<name>_<pid>` on
127.0.0.1:5432, dropped when the bench ends), points each named variable at its Redis
database, refuses to start (exit 2) when one of them holds anything, and at the end
deletes the keys there, all of which the bench made. Nothing is flushed or truncated that
the bench did not create.
"""

import atexit
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client speaks plain HTTP
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")

SERVER = "postgresql://postgres@127.0.0.1:5432"


def owned(name: str, *, redis: dict[str, int] | None = None, template: str = "") -> str:
    """Make the bench's own database and claim its Redis databases; return the database's
    name. Both are given back when the process ends. With `template` (another database of
    the bench's, migrated, with no one connected) the new database is a copy of it."""
    import psycopg
    import redis as redis_client

    database = f"hub_bench_{name}_{os.getpid()}"
    os.environ["DATABASE_URL"] = f"{SERVER}/{database}"
    claimed = []
    for variable, db in (redis or {}).items():
        url = f"redis://127.0.0.1:6379/{db}"
        os.environ[variable] = url
        store = redis_client.Redis.from_url(url)
        if store.dbsize():
            print(f"Redis {url} is not empty: the bench uses it alone. Stopped.")
            sys.exit(2)
        claimed.append(store)
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as c:
        copy = f' TEMPLATE "{template}"' if template else ""
        c.execute(f'CREATE DATABASE "{database}"{copy}')
    atexit.register(_give_back, database, claimed)
    return database


def _give_back(database: str, claimed: list) -> None:
    import psycopg

    try:
        from django.db import connections

        connections.close_all()
    except Exception:  # Django never started: nothing to close
        pass
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    for store in claimed:
        keys = list(store.scan_iter("*"))  # the db was empty: every key is the bench's
        if keys:
            store.delete(*keys)


def bench_django() -> None:
    """Start Django on the bench's database (see `owned`) and migrate it."""
    import django

    if "hub_bench_" not in os.environ.get("DATABASE_URL", ""):
        raise SystemExit("Call benchdb.owned() first: a bench runs on a database of its own.")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def xero_connect(sandbox, org, scopes: str = "offline_access accounting.invoices") -> None:
    """Connect the hub to one of the Xero sandbox's organisations, as an admin would."""
    from datetime import timedelta

    from django.utils import timezone

    from connectors.models import XeroConnection

    tokens = sandbox.store.issue_tokens()
    XeroConnection.objects.create(
        tenant_id=org.tenant_id,
        tenant_name=org.name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        scopes=scopes,
        expires_at=timezone.now() + timedelta(hours=6),
    )


def customers_linked(org, names: list[str], *, organisation: str = "") -> list:
    """Register customers with these names, each linked to a new Xero contact of the same
    name in the sandbox's organisation (as a finished onboarding leaves them). With several
    organisations, `organisation` (its tenant id) is the one the links say they are in."""
    import uuid

    from operations.models import Customer
    from ownership.models import Record
    from ownership.services import link_add, record_for_link

    customers = Customer.objects.bulk_create(Customer(name=name) for name in names)
    for customer in customers:
        contact_id = str(uuid.uuid4())
        org.contacts[contact_id] = {
            "ContactID": contact_id,
            "Name": customer.name,
            "ContactStatus": "ACTIVE",
            "UpdatedDateUTC": "/Date(0+0000)/",
        }
        record = record_for_link(
            type=Record.Type.CUSTOMER,
            system="operations",
            external_id=str(customer.pk),
            label=customer.name,
        )
        link_add(record=record, system="xero", external_id=contact_id, organisation=organisation)
    return customers


def hub_processes(name: str, env: dict[str, str]) -> list:
    """Start the hub's worker (2 processes) and its dispatcher as the demo runs them, with
    these settings added; their output goes to var/bench-<name>-<process>.log."""
    import subprocess

    from integration_hub.supervisor import worker_command

    root = Path(__file__).resolve().parent.parent
    (root / "var").mkdir(exist_ok=True)
    started = []
    for process, command in (
        ("worker", worker_command(f"bench-{os.getpid()}", concurrency=2, loglevel="warning")),
        ("dispatcher", [sys.executable, "manage.py", "dispatch"]),
    ):
        log = open(root / "var" / f"bench-{name}-{process}.log", "wb")  # noqa: SIM115
        started.append(
            subprocess.Popen(
                command, env=os.environ | env, cwd=root, stdout=log, stderr=subprocess.STDOUT
            )
        )
    return started
