"""How fast the review queue answers with a million items (PostgreSQL).

Run: .venv/bin/python bench/review_queue_pages.py [ITEMS]   (default 1,000,000; PostgreSQL
on 127.0.0.1:5432). It creates a database of its own (`hub_bench_queue_<pid>`, dropped at
the end), seeds the items in SQL (generate_series: a mix of kinds, statuses, systems,
records, assignees and ages, two thirds open; no history rows: the page reads none)
before the queue's indexes are built, as an existing queue is upgraded, then asks the
queue page through Django's test client, logged in as office staff, for the first page,
every filter and sort the page offers, page 1,000 and text searches, and for pages of 50
through the REST API (/api/review-items/: first, page 1,000 and a kind): the p95 of RUNS
requests each (in rounds over all cases), against the targets (50 ms; search 100 ms).
Page 1,000 must be page 1,000: a page that shows another number fails the bench.

Baseline, in the same run: the queries of the page as it was (Django's Paginator: an exact
count, then the rows at the offset; search with the trigram indexes dropped, a sequential
scan), timed alone, without the rendering the figures include; the median of 3.
Exit 1 when a figure misses its target.
"""

import sys
import time

from benchdb import bench_django, owned
from figures import Figure, median, p95, report

owned("queue")
bench_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import QueryDict  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from integration_hub.permissions import STAFF_GROUP  # noqa: E402
from review_queue.models import ReviewItem  # noqa: E402
from review_queue.selectors import QueueFilter, review_items_filtered  # noqa: E402

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
RUNS = 30
PAGE_TARGET, SEARCH_TARGET = 50, 100
PEOPLE = 5

SEED = """
INSERT INTO review_queue_reviewitem (
    kind, status, system, record_type, record_ref, record_label, title, reason, action,
    vendor_error, details, root_key, occurrences, first_seen, last_seen, resolved_at,
    resolution, resolution_note, assignee_id)
SELECT
    (%(kinds)s::text[])[1 + n %% array_length(%(kinds)s::text[], 1)],
    CASE WHEN n %% 3 = 0 THEN (ARRAY['resolved', 'dismissed'])[1 + n %% 2] ELSE 'open' END,
    (ARRAY['hubspot', 'xero', 'operations'])[1 + (n / 7) %% 3],
    (ARRAY['deal', 'invoice', 'job', 'customer'])[1 + (n / 11) %% 4],
    (100000 + n)::text,
    'Customer ' || (n * 7919) %% 20000,
    (ARRAY['Invoice for job J-', 'Deal won for job J-', 'Address differs on job J-',
           'Quote changed after job J-'])[1 + (n / 13) %% 4] || (10000 + n),
    (ARRAY['Item code ''LABOUR-HR'' is not valid in Xero.',
           'The customer has no company in HubSpot.',
           'Xero and the job register disagree on the billing address.',
           'The quote changed after the work started.'])[1 + (n / 17) %% 4]
        || ' Seen on record ' || (100000 + n) || '.',
    'Fix it in the system named, then retry.',
    '', '{}', 'bench:' || n, 1 + n %% 9,
    now() - make_interval(mins => ((n * 104729) %% 86400)::int),
    now() - make_interval(mins => (((n * 104729) %% 86400) / 2)::int),
    CASE WHEN n %% 3 = 0 THEN now() END, '', '',
    CASE WHEN n %% 10 = 0 THEN (%(people)s::int[])[1 + (n / 10) %% %(count)s] END
FROM generate_series(1::bigint, %(items)s) AS n
"""


def seed(people: list[int]) -> None:
    """Insert the items with the queue's indexes not yet built, then build them."""
    call_command("migrate", "review_queue", "0007", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            SEED,
            {
                "kinds": ReviewItem.Kind.values,
                "people": people,
                "count": len(people),
                "items": ITEMS,
            },
        )
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE review_queue_reviewitem")


def cases(me: int) -> list[tuple[str, dict, float]]:
    """Every filter and sort the page offers, page 1,000 and searches, with their targets."""
    found = [
        ("first page (open, most recent)", {}),
        ("page 1,000", {"page": "1000"}),
        *[(f"status {s}", {"status": s}) for s in ("resolved", "dismissed", "all")],
        *[(f"kind {k}", {"kind": k}) for k in ReviewItem.Kind.values],
        *[(f"system {s}", {"system": s}) for s in ("hubspot", "xero", "operations")],
        *[(f"age {a}", {"age": a}) for a in ("1h", "1d", "7d", "old")],
        ("assigned to me", {"assignee": "me"}),
        ("assigned to nobody", {"assignee": "none"}),
        ("assigned to a person", {"assignee": str(me)}),
        ("record deal:100042", {"record": "deal:100042"}),
        *[(f"sort {s}", {"sort": s}) for s in ("last_seen", "first_seen", "-occurrences", "kind")],
        ("system xero + age 7d", {"system": "xero", "age": "7d"}),
    ]
    if ITEMS >= 300_000:  # one kind of any status has 25,000 items to page through
        found.append(
            (
                "kind + any status, page 1,000",
                {"kind": "connection", "status": "all", "page": "1000"},
            )
        )
    searches = [
        ("search a job number", {"q": "J-54321"}),
        ("search a customer", {"q": "Customer 4321"}),
        ("search a record id", {"q": "100777"}),
        ("search words of a reason", {"q": "billing address"}),
        ("search nothing matches", {"q": "no such words"}),
    ]
    return [(n, p, PAGE_TARGET) for n, p in found] + [(n, p, SEARCH_TARGET) for n, p in searches]


# The same pages through the REST API (50 a page, DRF's default size).
API_CASES = [
    ("API: first page", {}, PAGE_TARGET),
    ("API: page 1,000", {"page": "1000"}, PAGE_TARGET),
    ("API: kind disagreement", {"kind": "disagreement"}, PAGE_TARGET),
]


def timed(run, runs: int) -> list[float]:
    run()  # warm the caches once
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def rounds(runs: dict) -> dict[str, list[float]]:
    """Time each request RUNS times, a round of every case at a time, so that a burst of
    load from elsewhere on the machine falls on all cases alike, not on one."""
    for run in runs.values():
        run()  # warm the caches once
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(RUNS):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def page_view(client: Client, params: dict):
    def run():
        response = client.get("/review/", params)
        if response.status_code != 200:
            raise SystemExit(f"The queue answered {response.status_code} for {params}.")
        shown = response.context["page"].number
        if shown != int(params.get("page", 1)):
            raise SystemExit(f"Asked for page {params['page']}, the queue showed page {shown}.")

    return run


def api_page(client: Client, params: dict):
    def run():
        response = client.get("/api/review-items/", params)
        if response.status_code != 200 or len(response.json()["results"]) != 50:
            raise SystemExit(f"The API answered {response.status_code} for {params}.")

    return run


def old_page(user, params: dict, size: int = 25):
    """The page as it was: Paginator's exact count and the full rows at the offset."""
    query = QueryDict(mutable=True)
    query.update(params)
    items = review_items_filtered(QueueFilter.from_query(query), user=user)

    def run():
        page = Paginator(items, size).get_page(params.get("page"))
        list(page.object_list)

    return run


def main() -> int:
    call_command("collectstatic", interactive=False, verbosity=0)
    setup_test_environment()
    staff = Group.objects.get_or_create(name=STAFF_GROUP)[0]
    people = []
    for n in range(PEOPLE):
        person = get_user_model().objects.create(username=f"bench{n}")
        person.groups.add(staff)  # office staff see the queue
        people.append(person)
    started = time.monotonic()
    seed([p.pk for p in people])
    took = time.monotonic() - started
    print(f"{ReviewItem.objects.count():,} items seeded and indexed in {took:.0f} s")
    client = Client()
    client.force_login(people[0])
    runs = {name: page_view(client, params) for name, params, _ in cases(people[1].pk)}
    measured = rounds(runs | {name: api_page(client, params) for name, params, _ in API_CASES})
    with connection.cursor() as cursor:
        for column in ("title", "record_label", "reason"):
            cursor.execute(f"DROP INDEX item_{column}_trgm")
    figures = [
        Figure(name, p95(measured[name]), target, median(timed(old_page(people[0], params), 3)))
        for name, params, target in cases(people[1].pk)
    ]
    figures += [
        Figure(name, p95(measured[name]), target, median(timed(old_page(people[0], params, 50), 3)))
        for name, params, target in API_CASES
    ]
    return report(figures)


if __name__ == "__main__":
    sys.exit(main())
