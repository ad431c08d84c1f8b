"""Property: whatever people edit, in whichever system, however late, repeated or reordered the
events arrive and whichever vendor writes fail on the way, once the hub is quiet every shared
field of every record equals its owner's value or has an open item naming the record and
field, no owner's value was ever overwritten, and no run failed silently.

Runs the real pipeline (inbox, connectors, handoffs, the ownership engine, the official SDKs
over HTTP to both sandboxes, the job register) in this process, one step at a time, so
hypothesis can try many histories. The sandboxes' webhooks are captured, not sent: the
test delivers them when and as often as it likes."""

import json
import os
import random
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.hubspot import webhooks as hubspot_webhooks
from connectors.models import XeroConnection
from connectors.registry import systems
from connectors.sandbox.xero import console
from connectors.xero import webhooks as xero_webhooks
from handoffs.inbox import _events_store, inbox_drain
from handoffs.models import HandoffRun
from operations import services
from operations.models import Customer, Job
from ownership.catalogue import field_of
from ownership.models import FieldRule, Link, Record
from ownership.values import same
from review_queue.models import ReviewItem
from tests.conftest import vendor_memory_forget

APP_ID = 54321
# What people type, per field: few values, so that edits collide and undo each other.
TEXT = {
    "name": ["Greenway Childcare Centre", "Greenway Kids"],
    "address": ["9 Greenway Dr", "1 Other St"],
    "abn": ["86 630 222 419", "11 111 111 111"],
    "phone": ["02 9555 0177", "0412 345 678"],
    "email": ["director@greenwaychildcare.org.au", "office@greenwaychildcare.org.au"],
    "person": ["Aroha Ngata", "Sam Lee"],
    "status": ["in_progress", "on_hold", "done"],
    "money": ["1.00", "2500.00"],
}
# An edit: (system, what, value index). Each names one place a person can change a field.
EDITS = [
    ("hubspot", "company.name", "name"),
    ("hubspot", "company.address", "address"),
    ("hubspot", "company.abn", "abn"),
    ("hubspot", "company.phone", "phone"),
    ("hubspot", "contact.email", "email"),
    ("hubspot", "contact.person", "person"),
    ("hubspot", "deal.job_status", "status"),
    ("hubspot", "deal.amount", "money"),
    ("hubspot", "deal.payment_status", "status"),
    ("hubspot", "deal.amount_paid", "money"),
    ("xero", "contact.Name", "name"),
    ("xero", "contact.AddressLine1", "address"),
    ("xero", "contact.TaxNumber", "abn"),
    ("xero", "contact.Phone", "phone"),
    ("xero", "contact.EmailAddress", "email"),
    ("xero", "invoice.approve", "money"),
    ("xero", "invoice.pay", "money"),
    ("operations", "customer.name", "name"),
    ("operations", "customer.street", "address"),
    ("operations", "customer.phone", "phone"),
    ("operations", "customer.email", "email"),
    ("operations", "job.status", "status"),
]
WRITES = [  # vendor writes a fault can hit: (system, what the sandbox matches)
    ("hubspot", "/crm/v3/objects/deals/batch/update"),
    ("hubspot", "/crm/v3/objects/companies/batch/update"),
    ("hubspot", "/crm/v3/objects/contacts/batch/update"),
    ("xero", "POST /Contacts"),  # the engine changes contacts 50 a request
]
edits = st.tuples(st.just("edit"), st.integers(0, len(EDITS) - 1), st.integers(0, 1))
steps = st.lists(
    st.one_of(
        edits,
        edits,
        edits,
        st.tuples(st.just("deliver"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("repeat"), st.integers(0, 50), st.booleans()),
        st.tuples(st.just("fault"), st.integers(0, len(WRITES) - 1), st.sampled_from([429, 503])),
        st.tuples(st.just("lost_answer"), st.integers(0, len(WRITES) - 1), st.just(0)),
        st.tuples(st.just("pump"), st.just(0), st.just(0)),
    ),
    min_size=3,
    max_size=16,
)
rules = st.fixed_dictionaries(
    {
        ("customer", "billing_address"): st.sampled_from(["flag", "restore"]),
        ("customer", "phone"): st.sampled_from(["flag", "restore"]),
        ("customer", "email"): st.sampled_from(["flag", "restore"]),
        ("job", "status"): st.sampled_from(["flag", "restore"]),
    }
)


@dataclass
class World:
    """The sandboxes, the webhooks they would have sent, and the records under test."""

    hubspot: object
    xero: object
    sent: list = field(default_factory=list)  # (source, event) not delivered yet
    delivered: list = field(default_factory=list)
    job: Job | None = None
    company: str = ""
    person: str = ""
    contact: str = ""
    invoice: str = ""

    @property
    def org(self):
        return next(iter(self.xero.store.organisations.values()))

    def deliver(self, source: str, event: dict) -> None:
        """Store one captured webhook event, as the hub's endpoint would."""
        if source == "hubspot":
            body = json.dumps([event]).encode()
            parsed = hubspot_webhooks.events_parse(body)
        else:
            parsed = xero_webhooks.events_parse(json.dumps({"events": [event]}).encode())
        _events_store(source=source, events=parsed, delivery=None)
        self.delivered.append((source, event))

    def pump(self, rounds: int = 8) -> None:
        """Process what is stored; runs waiting to retry are made due (time passes)."""
        for _ in range(rounds):
            HandoffRun.objects.filter(state=HandoffRun.State.RETRYING).update(
                next_attempt_at=timezone.now()
            )
            if not inbox_drain():
                return

    def settle(self, order: random.Random) -> None:
        """Deliver the rest in any order, let every fault pass, and run until quiet."""
        self.hubspot.store.clear_faults()
        self.xero.store.call_faults = []
        for _ in range(20):
            while self.sent:
                self.deliver(*self.sent.pop(order.randrange(len(self.sent))))
            self.pump(rounds=20)
            if not self.sent:
                return
        raise AssertionError("The hub never went quiet.")


@pytest.fixture(scope="module")
def world():
    from django.conf import settings as django_settings

    from connectors.sandbox.hubspot.server import start_in_thread as hubspot_sandbox
    from connectors.sandbox.xero.server import start_in_thread as xero_sandbox

    hubspot = hubspot_sandbox(
        access_token=django_settings.HUBSPOT_ACCESS_TOKEN,
        client_secret="s",
        webhook_url="",
        app_id=APP_ID,
    )
    xero = xero_sandbox(
        client_id=django_settings.XERO_CLIENT_ID,
        client_secret=django_settings.XERO_CLIENT_SECRET,
        minute_limit=100_000,
    )
    made = World(hubspot=hubspot, xero=xero)
    hubspot.sender.queue = lambda event: made.sent.append(("hubspot", event))
    xero.sender.queue = lambda event: made.sent.append(("xero", event))
    yield made
    hubspot.stop()
    xero.stop()


def _start(world: World, settings) -> None:
    """A customer in all three systems, with a won deal, its job done and invoiced."""
    world.hubspot.store.reset("demo")
    world.xero.store.reset()
    world.sent.clear()
    world.delivered.clear()
    tokens = world.xero.store.issue_tokens()
    XeroConnection.objects.create(
        tenant_id=world.org.tenant_id,
        tenant_name=world.org.name,
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(minutes=30),
        scopes="offline_access",
    )
    store = world.hubspot.store
    deal = next(d for d in store.list("deals") if "safety switch" in d["properties"]["dealname"])
    store.update("deals", deal["id"], {"dealstage": "closedwon"})
    world.settle(random.Random(0))
    world.job = Job.objects.get(origin_ref=deal["id"])
    services.job_transition(job=world.job, to="in_progress")
    services.job_complete(job=world.job, by=None, note="Done.")
    world.settle(random.Random(0))
    world.job.refresh_from_db()
    assert world.job.invoice_number, "the set-up's job was not invoiced"
    world.company = store.associated_ids("deals", deal["id"], "companies")[0]
    world.person = sorted(store.associated_ids("companies", world.company, "contacts"), key=int)[0]
    (invoice,) = world.org.invoices.values()
    world.invoice, world.contact = invoice["InvoiceID"], invoice["Contact"]["ContactID"]


def _edit(world: World, which: int, pick: int) -> None:
    system, what, pool = EDITS[which]
    value = TEXT[pool][pick]
    kind, _, name = what.partition(".")
    store, job = world.hubspot.store, world.job
    if system == "hubspot":
        if kind == "contact" and name == "person":
            first, _, last = value.partition(" ")
            store.update("contacts", world.person, {"firstname": first, "lastname": last})
        elif kind == "contact":
            store.update("contacts", world.person, {name: value})
        else:
            target = world.company if kind == "company" else job.origin_ref
            store.update("companies" if kind == "company" else "deals", target, {name: value})
    elif system == "xero":
        if kind == "invoice":
            invoice = world.org.invoices[world.invoice]
            if name == "approve" and invoice["Status"] == "DRAFT":
                console.act(
                    world.xero.store,
                    [world.org.tenant_id, "invoices", world.invoice, "approve"],
                    {},
                )
            elif name == "pay" and invoice["Status"] == "AUTHORISED" and invoice["AmountDue"]:
                amount = min(float(value), invoice["AmountDue"])
                console.act(
                    world.xero.store,
                    [world.org.tenant_id, "invoices", world.invoice, "pay"],
                    {"amount": str(amount)},
                )
        else:
            form = {name: value}
            console.act(world.xero.store, [world.org.tenant_id, "contacts", world.contact], form)
    elif kind == "customer":
        services.customer_fields_set(
            customer=Customer.objects.get(pk=job.customer_id), changes={name: value}
        )
    else:
        job.refresh_from_db()
        try:
            services.job_transition(job=job, to=value)
        except services.TransitionRefused:
            pass


def _owners(records: list[Record]) -> dict[tuple[int, str], object]:
    """Every owner's value of every rule, for these records."""
    found = {}
    for record in records:
        links = dict(record.links.values_list("system", "external_id"))
        for rule in FieldRule.objects.filter(record_type=record.type):
            if rule.owner in links:
                values = systems()[rule.owner].values_read(record.type, [links[rule.owner]])
                found[(record.pk, rule.field)] = values[links[rule.owner]].get(rule.field)
    return found


def _flagged(record: Record, name: str) -> bool:
    """Whether an open item names this record and field (a disagreement, a held write, or a
    failure the record's run waits on)."""
    items = ReviewItem.objects.filter(status=ReviewItem.Status.OPEN)
    ids = list(record.links.values_list("external_id", flat=True))
    return (
        items.filter(root_key=f"disagreement:{record.pk}:{name}").exists()
        or (record.type == "deal" and items.filter(kind="quote_changed").exists())
        or items.filter(record_ref__in=ids).exclude(kind="disagreement").exists()
    )


@pytest.mark.django_db
# Forty histories through the whole pipeline: about a minute on a quiet machine, several on
# a busy one. The suite's two-minute cut-off is for a test that hangs, not for this one.
@pytest.mark.timeout(900)
@settings(
    # DRIFT_EXAMPLES=400 ./hub test tests/ownership/test_no_silent_drift.py for a longer search.
    max_examples=int(os.environ.get("DRIFT_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(chosen=rules, steps=steps, seed=st.integers(0, 2**32))
def test_no_shared_field_drifts_silently(world, settings, chosen, steps, seed):
    order = random.Random(seed)
    settings.HUBSPOT_API_BASE_URL, settings.HUBSPOT_APP_ID = world.hubspot.url, str(APP_ID)
    settings.XERO_API_BASE_URL = f"{world.xero.url}/api.xro/2.0"
    settings.XERO_TOKEN_URL = f"{world.xero.url}/connect/token"
    settings.XERO_MINUTE_LIMIT = settings.HUBSPOT_CALLS_PER_10_SECONDS = 100_000
    vendor_memory_forget()
    with transaction.atomic():
        for (record_type, name), rule in chosen.items():
            FieldRule.objects.filter(record_type=record_type, field=name).update(
                on_disagreement=rule
            )
        _start(world, settings)
        records = list(Record.objects.filter(links__isnull=False).distinct())
        owners = _owners(records)
        for kind, first, second in steps:
            if kind == "edit":
                _edit(world, first, second)
                # What people set in an owner stays: the check below holds the hub to it.
                owners = _owners(records)
            elif kind == "deliver" and world.sent:
                world.deliver(*world.sent.pop(first % len(world.sent)))
            elif kind == "repeat" and world.delivered:
                world.deliver(*world.delivered[first % len(world.delivered)])
            elif kind in ("fault", "lost_answer"):
                system, where = WRITES[first]
                after = kind == "lost_answer"
                status = second or 503
                if system == "hubspot":
                    world.hubspot.store.set_fault(
                        status=status, count=1, retry_after=1, path_prefix=where, after=after
                    )
                else:
                    world.xero.store.fault_add(
                        operation=where, status=status, count=1, retry_after=1, after=after
                    )
            elif kind == "pump":
                world.pump()
        world.settle(order)
        _check(records, owners)
        transaction.set_rollback(True)


def _check(records: list[Record], owners: dict) -> None:
    # 1. Every run ended: done, nothing to do, or waiting on an item that says why.
    unfinished = HandoffRun.objects.exclude(state__in=["done", "skipped", "needs_review"])
    assert not unfinished.exists(), [str(r) for r in unfinished]
    silent = HandoffRun.objects.filter(state="needs_review", review_item__isnull=True)
    assert not silent.exists(), "a run failed with no review item"
    # 2. No owner's value was overwritten (nobody chose another system's value here). The
    #    register moves a job to invoiced or paid itself when finance records its invoice.
    now = _owners(records)
    for (record_id, name), before in owners.items():
        record = next(r for r in records if r.pk == record_id)
        if (record.type, name) == ("job", "status"):
            continue
        kind = field_of(record.type, name).kind
        assert same(kind, now[(record_id, name)], before), (
            f"{record} {name}: the owner had {before!r}, now {now[(record_id, name)]!r}"
        )
    # 3. Every carried field equals its owner's, or an open item names the record and field.
    for record in records:
        links = dict(record.links.values_list("system", "external_id"))
        for rule in FieldRule.objects.filter(record_type=record.type).exclude(carriers={}):
            if rule.owner not in links or rule.on_disagreement == "ignore":
                continue
            kind = field_of(record.type, rule.field).kind
            owner = now[(record.pk, rule.field)]
            for carrier in rule.carriers:
                if carrier not in links:
                    continue
                copy = (
                    systems()[carrier]
                    .values_read(record.type, [links[carrier]])[links[carrier]]
                    .get(rule.field)
                )
                assert same(kind, owner, copy) or _flagged(record, rule.field), (
                    f"{record}: {rule.field} is {copy!r} in {carrier} but {owner!r} in "
                    f"{rule.owner}, and no open item says so"
                )
        # One root cause, one item.
        for rule_field in {r.field for r in FieldRule.objects.filter(record_type=record.type)}:
            roots = ReviewItem.objects.filter(
                status="open", root_key=f"disagreement:{record.pk}:{rule_field}"
            )
            assert roots.count() <= 1
    assert Link.objects.filter(system="xero", record_type="customer").count() >= 1
