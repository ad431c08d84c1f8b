"""The nightly check at size: does it find every difference, and only those, within limits?

Run: .venv/bin/python bench/reconcile.py   (PostgreSQL and Redis on 127.0.0.1). Sizes:
BENCH_CUSTOMERS=10000 BENCH_JOBS=2000 BENCH_INVOICES=5000 (set them lower to run small);
BENCH_PROFILE=FILE writes a cProfile of the measured check to FILE.

It makes its own database (hub_bench_reconcile_<pid>, dropped at the end) and uses Redis
db 15 (it refuses to start if that db holds anything, and deletes only the keys it made).
Both sandboxes enforce the vendors' limits: Xero 60 calls a minute and 5 at once, HubSpot
100 calls per 10 seconds.

1. Seeding, straight into the sandboxes' stores and the register: customers as HubSpot
   companies with a contact, Xero contacts and register customers (twins by construction);
   jobs in the register with their won HubSpot deals; Xero invoices (one per job, the
   rest paid invoices of no job).
2. The first match on those lists (onboarding/first_match.py): time, certain, proposed,
   and wrong (a link between customers that are not twins).
3. The links a finished onboarding has, written directly (customer: HubSpot, Xero and the
   register; job: the deal and the register's job; invoice: Xero's and the job), then one
   check to bring them into agreement (not measured).
4. 2 % of the compared (record, field) pairs made different in a random system that holds
   the field, without webhooks; then the measured check: time, vendor calls, 429s, and
   the differences found against those seeded.
5. The baseline: reading records one call each (as a per-record sync does), timed on a
   sample and projected for all the records the check compares, within the same limits.

It prints the figures and exits 1 if any target is missed (under 60 s, at most one vendor
call per 100 records the sandboxes hold, every seeded difference found and none invented,
no 429). The records held: each customer is a HubSpot company, its contact and a Xero
contact; each job a deal; and the invoices.
"""

import cProfile
import os
import random
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal

os.environ["CELERY_BROKER_URL"] = "memory://"
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "xLGZLUIiOVlM5RLI3zE-w1pJC9mqr5-JUKmQ5VsYIsU=")
os.environ.setdefault("XERO_CLIENT_ID", "bench-client")
os.environ.setdefault("XERO_CLIENT_SECRET", "bench-secret")
os.environ.setdefault("HUBSPOT_ACCESS_TOKEN", "bench-hubspot-token")
os.environ.setdefault("HUBSPOT_CLIENT_SECRET", "bench-hubspot-secret")
os.environ.setdefault("HUBSPOT_CLIENT_ID", "bench-hubspot-client")
os.environ.setdefault("RECONCILE_MAX_SECONDS", "3600")

from benchdb import bench_django, owned, xero_connect  # noqa: E402
from figures import Figure, report  # noqa: E402

sys.stdout.reconfigure(line_buffering=True)

CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", 10000))
JOBS = int(os.environ.get("BENCH_JOBS", 2000))
INVOICES = max(int(os.environ.get("BENCH_INVOICES", 5000)), JOBS)
SHARE = 0.02
HUBSPOT_PER_10S = 100
BASELINE_SAMPLE = 20
CUSTOMER_FIELDS = ("billing_name", "tax_number", "contact_name", "email", "phone")
INVOICE_FIELDS = ("number", "status", "total", "amount_paid")
rng = random.Random(int(os.environ.get("BENCH_SEED", 12)))


def abn(n: int) -> str:
    """A valid ABN (the checksum holds), different for each n."""
    weights = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
    body = f"{n:09d}"
    for head in range(10, 100):
        digits = [int(c) for c in f"{head}{body}"]
        digits[0] -= 1
        if sum(d * w for d, w in zip(digits, weights, strict=True)) % 89 == 0:
            return f"{head}{body}"
    return f"51{body}"


# Seeding --------------------------------------------------------------------------------------


class World:
    """What was seeded: each customer's ids in the three systems, the jobs and invoices."""

    def __init__(self):
        self.company: list[str] = []
        self.person: list[str] = []
        self.contact: list[str] = []
        self.customer: list[int] = []
        self.twin: dict[tuple[str, str], int] = {}
        self.deal: list[str] = []
        self.job: list[str] = []
        self.invoice: list[str] = []


def seed(hubspot, xero, org) -> World:
    from connectors.sandbox.xero import books
    from operations.models import Customer, Job

    world = World()
    store = hubspot.store
    people = [(f"Pat{n}", f"Lee{n}") for n in range(CUSTOMERS)]
    rows = []
    customers = []
    for n in range(CUSTOMERS):
        name = f"Bench {n:05d} Electrical"
        first, last = people[n]
        email, phone, tax = f"office{n}@bench{n}.com.au", f"02 9{n:07d}", abn(n)
        # A tenth of the customers have no ABN and no email anywhere: only the name and
        # phone tie them (the first match proposes them).
        bare = n % 10 == 7
        if bare:
            tax, email = "", ""
        contact_id = str(uuid.uuid4())
        org.contacts[contact_id] = {
            "ContactID": contact_id,
            "Name": name,
            "ContactStatus": "ACTIVE",
            "TaxNumber": "" if bare else tax,
            "EmailAddress": "" if bare else email,
            "FirstName": first,
            "LastName": last,
            "Phones": [{"PhoneType": "DEFAULT", "PhoneNumber": phone}],
            "Addresses": [],
            "UpdatedDateUTC": "/Date(0+0000)/",
        }
        rows.append((name, tax, phone, first, last, email))
        world.contact.append(contact_id)
        customers.append(
            Customer(
                name=name,
                tax_number="" if n % 10 == 3 else tax,
                contact_name=f"{first} {last}",
                email=email,
                phone=phone,
            )
        )
    with store.lock:
        stamp = "2026-01-01T00:00:00.000Z"
        for name, tax, phone, first, last, email in rows:
            store.next_id += 1
            company_id = str(store.next_id)
            store.objects["companies"][company_id] = {
                "id": company_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "properties": {"name": name, "abn": tax, "phone": phone},
            }
            store.next_id += 1
            person_id = str(store.next_id)
            store.objects["contacts"][person_id] = {
                "id": person_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "properties": {"firstname": first, "lastname": last, "email": email},
            }
            store.associations += [
                ("contacts", person_id, "companies", company_id, 1),
                ("contacts", person_id, "companies", company_id, 279),
                ("companies", company_id, "contacts", person_id, 280),
            ]
            world.company.append(company_id)
            world.person.append(person_id)
    made = Customer.objects.bulk_create(customers, batch_size=2000)
    world.customer = [c.pk for c in made]
    for n in range(CUSTOMERS):
        world.twin[("hubspot", world.company[n])] = n
        world.twin[("xero", world.contact[n])] = n
        world.twin[("operations", str(world.customer[n]))] = n
    # Jobs: won deals with their job in the register, each invoiced in Xero.
    jobs = []
    with store.lock:
        for j in range(JOBS):
            n = j * 7 % CUSTOMERS
            store.next_id += 1
            deal_id = str(store.next_id)
            number = f"J-{200000 + j}"
            store.objects["deals"][deal_id] = {
                "id": deal_id,
                "createdAt": stamp,
                "updatedAt": stamp,
                "archived": False,
                "properties": {
                    "dealname": f"Switchboard upgrade {j}",
                    "amount": "440",
                    "dealstage": "closedwon",
                    "pipeline": "default",
                    "job_number": number,
                    "job_status": "invoiced",
                },
            }
            store.associations += [
                ("deals", deal_id, "companies", world.company[n], 5),
                ("deals", deal_id, "companies", world.company[n], 341),
                ("companies", world.company[n], "deals", deal_id, 342),
            ]
            world.deal.append(deal_id)
            world.job.append(number)
            jobs.append(
                Job(
                    customer_id=world.customer[n],
                    title=f"Switchboard upgrade {j}",
                    number=number,
                    status=Job.Status.INVOICED,
                    amount=Decimal("440"),
                    origin_system="hubspot",
                    origin_ref=deal_id,
                )
            )
    Job.objects.bulk_create(jobs, batch_size=2000)
    xero.sender.webhook_url = ""
    invoices = []
    for i in range(INVOICES):
        n = i * 13 % CUSTOMERS
        invoices.append(
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": world.contact[n]},
                "Reference": world.job[i] if i < JOBS else f"SALE-{i}",
                "Status": "AUTHORISED",
                "LineItems": [
                    {
                        "Description": "Switchboard upgrade",
                        "Quantity": 1,
                        "UnitAmount": 400,
                        "AccountCode": "200",
                        "TaxType": "OUTPUT",
                    }
                ],
            }
        )
    for start in range(0, len(invoices), 500):
        status, answer = books.save_many(
            xero.store, org, "Invoices", invoices[start : start + 500], False
        )
        if status != 200:
            raise SystemExit(f"The Xero sandbox refused the invoices: {str(answer)[:500]}")
        world.invoice += [i["InvoiceID"] for i in answer["Invoices"]]
    # The invoices of no job are paid history: not open, so not "an invoice with no job".
    for invoice_id in world.invoice[JOBS:]:
        invoice = org.invoices[invoice_id]
        invoice["Status"] = "PAID"
        invoice["AmountPaid"], invoice["AmountDue"] = invoice["Total"], 0
    return world


# The first match ------------------------------------------------------------------------------


def first_match_run(world: World) -> dict:
    from onboarding.first_match import first_match
    from operations.models import Job
    from ownership.models import Link, Proposal

    jobs_before = set(Job.objects.values_list("pk", flat=True))
    started = time.monotonic()
    match = first_match(asked_by="bench")
    seconds = time.monotonic() - started
    members: dict[int, set[int]] = {}
    for link in Link.objects.filter(record_type="customer"):
        twin = world.twin.get((link.system, link.external_id))
        members.setdefault(link.record_id, set()).add(-1 if twin is None else twin)
    wrong = sum(len(twins) - 1 for twins in members.values() if len(twins) > 1)
    proposals_wrong = 0
    for proposal in Proposal.objects.all():
        mine = world.twin.get((proposal.system, proposal.external_id))
        first = proposal.candidates[0] if proposal.candidates else {}
        theirs = world.twin.get((proposal.target, str(first.get("id", ""))))
        proposals_wrong += mine != theirs
    made_jobs = Job.objects.exclude(pk__in=jobs_before).count()
    return {
        "state": match.state,
        "problem": match.problem,
        "seconds": seconds,
        "certain": match.matched,
        "proposed": match.proposed,
        "alone": match.alone,
        "wrong": wrong,
        "proposals_wrong": proposals_wrong,
        "in_flight": match.in_flight,
        "jobs_made": made_jobs,
        "linked_complete": sum(1 for twins in members.values() if len(twins) == 1),
    }


def onboarding_forget() -> None:
    """Forget what the first match wrote (this database is the bench's own)."""
    from django.db import connection

    from handoffs.models import HandoffRun, ReconcileRun
    from onboarding.models import FirstMatch
    from ownership.models import Link, Proposal, Record
    from review_queue.models import ReviewItem

    tables = [m._meta.db_table for m in (Link, Record, Proposal, ReviewItem, HandoffRun)]
    tables += [ReconcileRun._meta.db_table, FirstMatch._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def links_make(world: World) -> dict[str, list[int]]:
    """The links a finished onboarding has, written in bulk."""
    from ownership.models import Link, Record

    made: dict[str, list[int]] = {}

    def many(kind: str, ids: list[dict[str, str]], labels: list[str]) -> None:
        records = Record.objects.bulk_create(
            [Record(type=kind, label=label) for label in labels], batch_size=2000
        )
        Link.objects.bulk_create(
            [
                Link(
                    record=r,
                    record_type=kind,
                    system=system,
                    external_id=external_id,
                    reason="the bench's onboarding",
                )  # fmt: skip
                for r, each in zip(records, ids, strict=True)
                for system, external_id in each.items()
            ],
            batch_size=5000,
        )
        made[kind] = [r.pk for r in records]

    many(
        "customer",
        [
            {
                "hubspot": world.company[n],
                "xero": world.contact[n],
                "operations": str(world.customer[n]),
            }  # fmt: skip
            for n in range(CUSTOMERS)
        ],
        [f"Bench {n:05d} Electrical" for n in range(CUSTOMERS)],
    )
    many(
        "job",
        [{"hubspot": world.deal[j], "operations": world.job[j]} for j in range(JOBS)],
        world.job,
    )
    many(
        "invoice",
        [{"xero": world.invoice[j], "operations": world.job[j]} for j in range(JOBS)],
        [f"Invoice of {number}" for number in world.job],
    )
    return made


# Differences ----------------------------------------------------------------------------------


def differences_seed(world: World, records: dict[str, list[int]], hubspot, org) -> set:
    """Make 2 % of the compared (record, field) pairs different in one random system that
    holds the field, as an edit whose webhook was lost; return the (record, field) pairs."""
    from operations.models import Customer, Job

    pairs = [("customer", n, f) for n in range(CUSTOMERS) for f in CUSTOMER_FIELDS]
    pairs += [("job", j, "status") for j in range(JOBS)]
    pairs += [("invoice", j, f) for j in range(JOBS) for f in INVOICE_FIELDS]
    chosen = rng.sample(pairs, round(len(pairs) * SHARE))
    seeded = set()
    where = Counter()
    for kind, n, name in chosen:
        tag = f"{n}x"
        if kind == "customer":
            system = rng.choice(("hubspot", "xero", "operations"))
            company = hubspot.store.objects["companies"][world.company[n]]["properties"]
            person = hubspot.store.objects["contacts"][world.person[n]]["properties"]
            contact = org.contacts[world.contact[n]]
            value = {
                "billing_name": f"Bench {n:05d} Electrical Services",
                "tax_number": abn(n + 500000000),
                "contact_name": ("Sam", f"Diff{tag}"),
                "email": f"changed{n}@elsewhere.net",
                "phone": f"0499 {n:06d}",
            }[name]
            if system == "hubspot":
                if name == "contact_name":
                    person["firstname"], person["lastname"] = value
                elif name == "email":
                    person["email"] = value
                else:
                    company[{"billing_name": "name", "tax_number": "abn"}.get(name, name)] = value
            elif system == "xero":
                if name == "contact_name":
                    contact["FirstName"], contact["LastName"] = value
                elif name == "phone":
                    contact["Phones"] = [{"PhoneType": "DEFAULT", "PhoneNumber": value}]
                else:
                    key = {"billing_name": "Name", "tax_number": "TaxNumber"}
                    contact[key.get(name, "EmailAddress")] = value
            else:
                column = {"billing_name": "name", "contact_name": "contact_name"}.get(name, name)
                Customer.objects.filter(pk=world.customer[n]).update(
                    **{column: " ".join(value) if isinstance(value, tuple) else value}
                )
        elif kind == "job":  # the CRM's copy of the job's status, edited there
            system = "hubspot"
            hubspot.store.objects["deals"][world.deal[n]]["properties"]["job_status"] = "on_hold"
        else:  # the register's copy of the invoice, edited there
            system = "operations"
            column, value = {
                "number": ("invoice_number", f"INV-X{n}"),
                "status": ("invoice_status", "paid"),
                "total": ("amount_invoiced", Decimal("1.23")),
                "amount_paid": ("amount_paid", Decimal("99.99")),
            }[name]
            Job.objects.filter(number=world.job[n]).update(**{column: value})
        where[(kind, system)] += 1
        seeded.add((records[kind][n], name))
    return seeded, where


# Runs -----------------------------------------------------------------------------------------


def check_run(org, hubspot, profile: str = "") -> dict:
    from connectors.calls import calls_recorded
    from handoffs.reconcile import reconcile

    rejected, hub_requests = org.rejected, sum(hubspot.store.requests.values())
    profiler = cProfile.Profile() if profile else None
    started = time.monotonic()
    with calls_recorded() as calls:
        if profiler:
            profiler.enable()
        run = reconcile(asked_by="bench")
    seconds = time.monotonic() - started
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    return {
        "run": run,
        "seconds": seconds,
        "calls": calls,
        "by": Counter(f"{c['system']} {c['operation']}" for c in calls),
        "ms": Counter({f"{c['system']} {c['operation']}": 0 for c in calls})
        + Counter(
            {
                key: sum(c["ms"] for c in calls if f"{c['system']} {c['operation']}" == key)
                for key in {f"{c['system']} {c['operation']}" for c in calls}
            }
        ),
        "429": sum(1 for c in calls if str(c["status"]) == "429"),
        "xero_429": org.rejected - rejected,
        "hubspot_requests": sum(hubspot.store.requests.values()) - hub_requests,
    }


def findings(run) -> tuple[set, Counter]:
    pairs, kinds = set(), Counter()
    for f in run.findings.all():
        kinds[f.kind] += 1
        if f.kind in ("carried", "restored", "flagged") and f.record_id:
            pairs.add((f.record_id, f.field))
    return pairs, kinds


def baseline(world: World, compared: int) -> dict:
    """One call per record, as a per-record sync reads: a sample timed, then projected."""
    from connectors.errors import Waiting
    from connectors.registry import systems

    known = systems()
    spent = 0.0
    calls = 0
    for n in range(min(BASELINE_SAMPLE, CUSTOMERS)):
        for system, ids in (("xero", world.contact), ("hubspot", world.company)):
            while True:  # the check may have used up a limit: waiting is not the call's time
                started = time.monotonic()
                try:
                    known[system].values_read("customer", [ids[n]])
                except Waiting as waiting:
                    time.sleep(min(waiting.retry_after or 1.0, 60.0))
                    continue
                spent += time.monotonic() - started
                calls += 1
                break
    per_call = spent / max(calls, 1)
    xero_calls = CUSTOMERS + JOBS  # each contact and each job's invoice
    hubspot_calls = CUSTOMERS + JOBS  # each company (and its contact) and each deal
    floor = max(xero_calls / 60 * 60, hubspot_calls / HUBSPOT_PER_10S * 10)
    return {
        "calls": xero_calls + hubspot_calls,
        "xero_calls": xero_calls,
        "per_call_ms": per_call * 1000,
        "seconds": max(floor, per_call * (xero_calls + hubspot_calls)),
        "compared": compared,
    }


def main() -> int:
    owned("reconcile", redis={"REDIS_URL": 15})
    return bench()


def bench() -> int:
    bench_django()
    from django.conf import settings

    from connectors.sandbox.hubspot.server import start_in_thread as hubspot_start
    from connectors.sandbox.xero.server import start_in_thread as xero_start
    from ownership.services import field_rules_defaults_load

    field_rules_defaults_load()
    hubspot = hubspot_start(
        port=0,
        access_token=settings.HUBSPOT_ACCESS_TOKEN,
        client_secret=settings.HUBSPOT_CLIENT_SECRET,
        client_id=settings.HUBSPOT_CLIENT_ID,
        webhook_url="",
        seed="empty",
        rate_limit_per_10s=HUBSPOT_PER_10S,
    )
    xero = xero_start(
        client_id=settings.XERO_CLIENT_ID, client_secret=settings.XERO_CLIENT_SECRET
    )  # 60 calls a minute, 5 at once, 5,000 a day
    settings.HUBSPOT_API_BASE_URL = hubspot.url
    settings.XERO_API_BASE_URL = f"{xero.url}/api.xro/2.0"
    settings.XERO_TOKEN_URL = f"{xero.url}/connect/token"
    settings.XERO_IDENTITY_URL = xero.url
    org = next(iter(xero.store.organisations.values()))
    print(
        f"Sizes: {CUSTOMERS} customers (HubSpot company + contact, Xero contact, register "
        f"customer), {JOBS} jobs (won deal + register job), {INVOICES} Xero invoices "
        f"({JOBS} of jobs, {INVOICES - JOBS} paid, of no job)."
    )
    started = time.monotonic()
    world = seed(hubspot, xero, org)
    xero_connect(xero, org, "offline_access accounting.contacts accounting.transactions")
    print(f"Seeded in {time.monotonic() - started:.1f} s.")

    match = first_match_run(world)
    said = f": {match['problem'][:300]}" if match["problem"] else ""
    print(
        f"First match ({match['state']}{said}):"
        f" {match['seconds']:.1f} s; certain {match['certain']}, proposed "
        f"{match['proposed']}, wrong {match['wrong']} (links between customers that are "
        f"not twins); alone {match['alone']}; proposals whose first candidate is not the "
        f"twin {match['proposals_wrong']}; in flight {match['in_flight']}, jobs made "
        f"{match['jobs_made']}. Expected by construction: {CUSTOMERS} customers in 3 systems."
    )
    onboarding_forget()
    records = links_make(world)
    settle = check_run(org, hubspot)
    _, settle_kinds = findings(settle["run"])
    print(
        f"Agreement first (not measured): {settle['seconds']:.1f} s, "
        f"{len(settle['calls'])} calls, findings {dict(settle_kinds)}, state "
        f"{settle['run'].state} {settle['run'].problem}"
    )
    settled_flags = {(f.record_id, f.field) for f in settle["run"].findings.filter(kind="flagged")}
    seeded, where = differences_seed(world, records, hubspot, org)
    compared = sum(len(ids) for ids in records.values())
    # The records the sandboxes hold: HubSpot's companies, their contacts and the deals,
    # Xero's contacts and invoices. A vendor call reads at most 100 of them (HubSpot's
    # batch read), so "one call per 100 records" is the vendors' own batch size kept.
    total = CUSTOMERS * 3 + JOBS + INVOICES
    check = check_run(org, hubspot, os.environ.get("BENCH_PROFILE", ""))
    run = check["run"]
    found, kinds = findings(run)
    found_new = found - (settled_flags - seeded)  # a flag still open from before is not new
    missed = seeded - found_new
    invented = found_new - seeded
    others = [
        f"{f.kind} {f.record_label} ({f.system}: {f.detail})"
        for f in run.findings.exclude(kind__in=("carried", "restored", "flagged"))[:5]
    ]
    base = baseline(world, compared)
    calls = len(check["calls"])
    print(
        f"Nightly check ({run.state}{': ' + run.problem[:300] if run.problem else ''}): "
        f"{check['seconds']:.1f} s; records compared {run.records}, fields {run.fields}"
    )
    print(
        f"  vendor calls {calls} (one per {total / max(calls, 1):.0f} of the {total} records "
        f"the sandboxes hold; one per {(CUSTOMERS + JOBS + INVOICES) / max(calls, 1):.0f} "
        f"customers, jobs and invoices); "
        f"429s {check['429']} (Xero sandbox refused {check['xero_429']})"
    )
    print("    calls  seconds in them  operation")
    for name, count in check["by"].most_common(10):
        print(f"    {count:5d}  {check['ms'][name] / 1000:15.1f}  {name}")
    print(
        f"  differences seeded {len(seeded)} ({', '.join(f'{k} in {s}: {v}' for (k, s), v in sorted(where.items()))})"  # noqa: E501
    )
    print(
        f"  found {len(found_new & seeded)} of them; missed {len(missed)}; invented "
        f"{len(invented)}; findings by kind {dict(kinds)}; other findings {others}"
    )
    print(
        f"Baseline (one read call per record, {base['per_call_ms']:.0f} ms a call measured on "
        f"{BASELINE_SAMPLE * 2} calls, projected within the same limits): "
        f"{base['calls']} calls ({base['xero_calls']} to Xero), at least "
        f"{base['seconds'] / 60:.1f} min"
    )
    hubspot.stop()
    xero.server.shutdown()
    each = f"one read per record, {base['per_call_ms']:.0f} ms a call, projected"
    per_call = {"baseline_is": each}
    return report(
        [
            Figure("nightly check: time", check["seconds"], 60, base["seconds"], "s", **per_call),
            Figure(
                "nightly check: vendor calls",
                calls,
                total // 100,
                base["calls"],
                "",
                **per_call,
            ),
            Figure("seeded differences missed", len(missed), 0, unit=""),
            Figure("differences invented", len(invented), 0, unit=""),
            Figure("429 answers", max(check["429"], check["xero_429"]), 0, unit=""),
            Figure("nightly check not done", run.state != "done", 0, unit=""),
            Figure("first match not done", match["state"] != "done", 0, unit=""),
            Figure("first match: wrong links", match["wrong"], 0, unit=""),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
