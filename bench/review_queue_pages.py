"""How fast the review queue pages answer with 100,000 items (PostgreSQL).

Run: .venv/bin/python bench/review_queue_pages.py   (needs PostgreSQL on 127.0.0.1:5432)
It creates a database of its own (`hub_bench_queue_<pid>`, dropped at the end) with 100,000
review items, then prints the median time of the queue page for common filters, rendered
through Django's test client.
"""

import random
import statistics
import time
from datetime import timedelta

from benchdb import bench_django, owned

owned("queue")
bench_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.utils import timezone  # noqa: E402

from integration_hub.permissions import STAFF_GROUP  # noqa: E402
from review_queue.models import ReviewItem  # noqa: E402

ITEMS = 100_000
RUNS = 7


def seed() -> None:
    have = ReviewItem.objects.count()
    rng = random.Random(7)
    kinds, systems = ReviewItem.Kind.values, ["hubspot", "xero", "operations"]
    now = timezone.now()
    batch = []
    for n in range(have, ITEMS):
        status = "open" if n % 3 else rng.choice(["resolved", "dismissed"])
        seen = now - timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        batch.append(
            ReviewItem(
                kind=rng.choice(kinds),
                status=status,
                system=rng.choice(systems),
                record_type="deal",
                record_ref=str(100000 + n),
                record_label=f"Customer {n % 5000}",
                title=f"Invoice for job J-{10000 + n}",
                reason="Item code 'X' is not valid.",
                action="Fix the item code.",
                root_key=f"bench:{n}",
                first_seen=seen,
                last_seen=seen,
            )
        )
        if len(batch) == 5000:
            ReviewItem.objects.bulk_create(batch)
            batch = []
    ReviewItem.objects.bulk_create(batch)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE review_queue_reviewitem")


def main() -> None:
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.monotonic()
    seed()
    print(
        f"{ReviewItem.objects.count():,} items ready ({time.monotonic() - started:.1f} s to seed)"
    )
    setup_test_environment()
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])  # office staff see it
    client = Client()
    client.force_login(user)
    cases = [
        ("open items, first page", {}),
        ("open items, page 1000", {"page": "1000"}),
        ("kind filter", {"kind": "connection"}),
        ("system + age filter", {"system": "xero", "age": "7d"}),
        ("search a job number", {"q": "J-54321"}),
        ("search a customer", {"q": "Customer 4321"}),
        ("any status, oldest first", {"status": "all", "sort": "first_seen"}),
        ("htmx table only", {"kind": "missing_data", "htmx": True}),
    ]
    print(f"{'case':32} {'median ms':>10} {'max ms':>8}  (of {RUNS} runs)")
    for label, params in cases:
        headers = {"HTTP_HX_REQUEST": "true"} if params.pop("htmx", False) else {}
        times = []
        for _ in range(RUNS):
            t = time.perf_counter()
            response = client.get("/review/", params, **headers)
            times.append((time.perf_counter() - t) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"The queue answered {response.status_code} for {label}.")
        print(f"{label:32} {statistics.median(times):10.1f} {max(times):8.1f}")


if __name__ == "__main__":
    main()
