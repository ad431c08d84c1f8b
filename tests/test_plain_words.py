"""Plain words everywhere staff read: every internal code the hub knows has words in
integration_hub/labels.py, and no page shows a code as it is.

The codes come from where the hub defines them (model choices, the registered handoffs and
review actions, the ownership catalogue, the connectors' field names, the events stored),
so a new one without words fails here, as does a page that prints one bare.
"""

import io
import re
from dataclasses import replace
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.management import call_command

from connectors.registry import systems
from handoffs.models import (
    HandoffAttempt,
    HandoffRun,
    InboundEvent,
    ReconcileFinding,
    ReconcileRun,
    WebhookDelivery,
)
from handoffs.registry import _HANDOFFS
from integration_hub import labels
from onboarding.models import FirstMatch
from operations.models import Job
from ownership.catalogue import FIELDS
from ownership.models import FieldRule, Proposal, Record
from ownership.services import field_rules_defaults_load
from review_queue.actions import _ACTIONS
from review_queue.models import ReviewItem
from tests.conftest import vendor_memory_forget
from tests.helpers import demo_hubspot

# What the review queue's own services log besides the registered actions.
QUEUE_ACTIONS = ("dismiss", "assign", "settled")

CHOICES = {
    "item_kind": ReviewItem.Kind,
    "item_status": ReviewItem.Status,
    "run_state": HandoffRun.State,
    "attempt_outcome": HandoffAttempt.Outcome,
    "event_state": InboundEvent.State,
    "delivery_outcome": WebhookDelivery.Outcome,
    "check_state": ReconcileRun.State,
    "finding_kind": ReconcileFinding.Kind,
    "proposal_state": Proposal.State,
    "job_status": Job.Status,
    "payment_status": Job.PaymentStatus,
}


def codes_by_namespace() -> dict[str, set[str]]:
    """Every internal code the hub defines, by the namespace its words live in."""
    found = {name: set(choices.values) for name, choices in CHOICES.items()}
    found["check_state"] |= set(FirstMatch.State.values)
    found["record_type"] = set(Record.Type.values) | {h.record_type for h in _HANDOFFS.values()}
    found["system"] = set(systems()) | {"hub"}
    found["handoff"] = set(_HANDOFFS)
    found["queue"] = {h.queue for h in _HANDOFFS.values()}
    found["review_action"] = set(_ACTIONS) | set(QUEUE_ACTIONS)
    found["event"] = set().union(*(h.listens_to for h in _HANDOFFS.values()))
    found["editor"] = set(labels.EDITORS)
    found["on_disagreement"] = set(labels.ON_DISAGREEMENT)
    return found


def field_codes() -> set[str]:
    """The shared fields' names, and what each system's API calls them."""
    names = {name for fields in FIELDS.values() for name in fields}
    return names | {name for store in systems().values() for name in store.fields.values()}


def test_every_code_the_hub_defines_has_plain_words():
    missing = [
        f"{namespace}: {code}"
        for namespace, codes in codes_by_namespace().items()
        for code in sorted(codes)
        if code not in labels.NAMESPACES[namespace]
    ]
    missing += [
        f"field: {record_type}.{name}"
        for record_type, fields in FIELDS.items()
        for name in fields
        if name not in labels.FIELDS.get(record_type, {})
    ]
    missing += [
        f"{system}'s field: {name}"
        for system, store in systems().items()
        for name in store.fields.values()
        if name not in labels.SYSTEM_FIELDS.get(system, {})
    ]
    assert not missing, "No plain words in integration_hub/labels.py for:\n" + "\n".join(missing)


def test_choices_handoffs_and_actions_take_their_words_from_the_one_place():
    for namespace, choices in CHOICES.items():
        assert dict(choices.choices) == {
            code: labels.NAMESPACES[namespace][code] for code in choices.values
        }, namespace
    assert {name: h.label for name, h in _HANDOFFS.items()} == {
        name: labels.HANDOFFS[name] for name in _HANDOFFS
    }
    assert {name: a.label for name, a in _ACTIONS.items()} == {
        name: labels.REVIEW_ACTIONS[name] for name in _ACTIONS
    }
    assert {name: store.label for name, store in systems().items()} == {
        name: labels.SYSTEMS[name] for name in systems()
    }
    assert {(rt, n): f.label for rt, fields in FIELDS.items() for n, f in fields.items()} == {
        (rt, n): labels.FIELDS[rt][n] for rt, fields in FIELDS.items() for n in fields
    }


def test_a_code_with_no_words_is_shown_as_it_is_so_the_page_sweep_catches_it():
    assert labels.label("handoff", "deal_changes_to_job") == "deal_changes_to_job"
    assert labels.label("handoff", "deal_won_to_job") == "Won deal to job"
    assert labels.property_change("hubspot", "job_status", "on_hold") == "Job status → On hold"
    assert labels.record_phrase("hubspot", "deal", "1018", "Kitchen rewire") == (
        "HubSpot deal 1018 (Kitchen rewire)"
    )
    assert labels.record_phrase("operations", "customer", "1") == (
        "customer no. 1 in the job register"
    )
    assert labels.record_phrase("operations", "job", "J-1003", "J-1003 Call-out") == (
        "job J-1003 (Call-out)"
    )
    assert labels.count_of(1, "handoff", "handoffs") == "1 handoff"
    assert labels.count_of(3, "handoff", "handoffs") == "3 handoffs"


# The page sweep ----------------------------------------------------------------------------


class VisibleText(HTMLParser):
    """The text a person sees (and a screen reader says): not scripts or styles, nor what a
    closed <details> hides (the raw vendor calls and errors kept for a maintainer)."""

    HIDDEN = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0
        self.details = 0
        self.summary = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "details":
            self.details += 1
        elif tag == "summary":
            self.summary += 1
        said = dict(attrs)
        for name in ("aria-label", "title", "placeholder"):
            if said.get(name) and self._shown():
                self.parts.append(said[name])

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden -= 1
        elif tag == "details":
            self.details -= 1
        elif tag == "summary":
            self.summary -= 1

    def _shown(self) -> bool:
        return not self.hidden and (not self.details or self.summary)

    def handle_data(self, data):
        if self._shown() and data.strip():
            self.parts.append(" ".join(data.split()))


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def looks_internal(code: str) -> bool:
    """Codes no one would write in a sentence: snake_case, dotted, CamelCase, or a system's
    name in lower case. ("done" or "status" are words too: the unit test covers them.)"""
    if " " in code or "(" in code:
        return False
    return (
        "_" in code
        or re.fullmatch(r"[a-z]+\.[a-zA-Z_]+|[A-Z]+\.[A-Z]+", code) is not None
        or re.fullmatch(r"[A-Z][a-z]+[A-Z][A-Za-z]*", code) is not None
        or code in ("hubspot", "xero")
    )


def internal_codes() -> set[str]:
    codes = set().union(*codes_by_namespace().values()) | field_codes()
    codes |= set(InboundEvent.objects.values_list("event_type", flat=True))
    return {code for code in codes if looks_internal(code)}


def bare(code: str, text: str) -> bool:
    return re.search(rf"(?<![\w.@/-]){re.escape(code)}(?![\w-])", text) is not None


def a_busy_day(store) -> None:
    """More of what the hub meets in a day, beyond the demo's seed, each the real way: a
    detail edited where it is not owned, a check that could not finish, people answering
    items (an assignment, a dismissal, a refused action), a changed rule."""
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from connectors.base import BusinessEvent, CustomerMoved, InvoiceMade, Tracking
    from connectors.errors import Transient
    from connectors.registry import operations
    from handoffs.flows.approved_invoice import approved_item_open
    from handoffs.flows.invoice_figures import figures_compare
    from handoffs.flows.invoice_tracking import tracking_compare
    from handoffs.flows.promised_amount import promise_differs
    from handoffs.inbox import inbox_drain
    from handoffs.reconcile import reconcile
    from handoffs.registry import handoff_get
    from handoffs.runs import _review_item_for, handoff_run_start
    from operations.models import Customer
    from operations.services import customer_fields_set
    from ownership.models import Link
    from ownership.moves import customers_follow
    from ownership.services import field_rule_save
    from review_queue.services import (
        ResolutionRefused,
        review_item_assign,
        review_item_resolve,
    )

    admin = get_user_model().objects.get(username="admin")
    cafe = Customer.objects.get(name="Harbour View Cafe")
    customer_fields_set(customer=cafe, changes={"email": "accounts@harbourview.example"})
    inbox_drain()
    reconcile(asked_by="admin")
    rule = FieldRule.objects.get(record_type="job", field="status")
    field_rule_save(
        record_type="job",
        field="status",
        owner=rule.owner,
        carriers=rule.carriers,
        editable_by="admin",
        on_disagreement="flag",
        note="Ask before the register's status overwrites HubSpot's",
        by=admin,
    )
    # What only an outage or a fault in the hub opens (as a run that gave up opens them),
    # and the question a finished job's invoice asks when its deal promised another amount.
    run = HandoffRun.objects.filter(handoff="deal_won_to_job", state="done").first()
    _review_item_for(run, Transient("HubSpot answered 503 three times.", system="hubspot"))
    _review_item_for(run, RuntimeError("a fault in the hub"))
    number = Job.objects.get(title__contains="kitchen rewire").number
    invoicing, _ = handoff_run_start(
        handoff=handoff_get("job_done_to_invoice"),
        happened=BusinessEvent("job.completed", "operations", number, {}),
    )
    job = operations().job_read(number)
    _review_item_for(invoicing, promise_differs(replace(job, amount=job.amount - 20)))
    # Xero's draft came to a cent more than the job's lines: what its answer is checked for.
    cent = Decimal("0.01")
    made = InvoiceMade(number, number="INV-0099", subtotal=job.figures.subtotal)
    figures_compare(job, replace(made, tax=job.figures.tax + cent, total=job.figures.total + cent))
    # Read back, the draft's lines had lost their Region: what the hub reads it back for.
    tracking_compare(
        job, (Tracking("Region", "NSW"),), replace(made, lines_tracking=(frozenset(),))
    )
    # A customer merged in HubSpot into another the hub keeps apart, another archived.
    linked = Link.objects.filter(system="hubspot", record_type="customer").order_by("pk")
    merged, survivor = linked.annotate(n=Count("record__links")).filter(n__gt=1)[:2]
    moved = CustomerMoved(merged.external_id, survivor.external_id)
    customers_follow(system="hubspot", moved={merged.external_id: moved})
    archived = Link.objects.filter(record_type="customer").exclude(system="hubspot").first()
    gone = CustomerMoved(archived.external_id)
    customers_follow(system=archived.system, moved={archived.external_id: gone})
    # The job's lines changed after Xero's invoice for it was approved.
    approved = replace(made, invoice_id="approved", status="part_paid", total=job.figures.total)
    approved_item_open(replace(job, lines=job.lines[:1]), replace(approved, amount_due=cent))
    items = ReviewItem.objects.filter(status="open")
    review_item_assign(item=items.get(kind="quote_changed"), by=admin, assignee=admin)
    with pytest.raises(ResolutionRefused):
        review_item_resolve(item=items.get(kind="quote_changed"), by=admin, action="retry")
    review_item_resolve(
        item=items.get(kind="active_job_affected"), by=admin, action="dismiss", note="Told crew"
    )
    disagreement = items.filter(kind="disagreement").first()
    if disagreement is not None:
        review_item_resolve(item=disagreement, by=admin, action="keep_owner")
    inbox_drain()


@pytest.mark.django_db
def test_no_page_staff_read_shows_an_internal_code(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    field_rules_defaults_load()  # a transactional test before may have emptied the table
    call_command("seed_demo", stdout=io.StringIO())
    vendor_memory_forget()  # the seed's HubSpot calls must not make the day's runs wait
    with demo_hubspot(settings, tmp_path) as sandbox:
        a_busy_day(sandbox.store)
    assert set(ReviewItem.objects.values_list("kind", flat=True)) == set(ReviewItem.Kind.values)
    client.login(username="admin", password="admin-demo-pass")
    pages = [
        "/",
        "/review/",
        "/review/?status=all",
        "/runs/",
        "/activity/",
        "/drift/",
        "/ownership/",
        "/setup/",
        "/setup/proposals/?state=all",
        "/jobs/",
        "/review/notifications/",
    ]
    pages += [f"/review/{pk}/" for pk in ReviewItem.objects.values_list("pk", flat=True)]
    pages += [f"/runs/{pk}/" for pk in HandoffRun.objects.values_list("pk", flat=True)]
    pages += [f"/jobs/{number}/" for number in Job.objects.values_list("number", flat=True)]
    pages += [f"/ownership/{pk}/" for pk in FieldRule.objects.values_list("pk", flat=True)]
    pages += sorted(
        {
            f"/trail/{i.system}/{i.record_type}/{i.record_ref}/"
            for i in ReviewItem.objects.exclude(record_type="")
        }
        | {
            f"/trail/{r.record_system}/{r.record_type}/{r.record_ref}/"
            for r in HandoffRun.objects.all()
        }
    )
    pages += [f"/drift/?run={pk}" for pk in ReconcileRun.objects.values_list("pk", flat=True)]
    codes = internal_codes()
    assert {"deal_won_to_job", "link_existing", "keep_owner", "job_status", "on_hold"} <= codes
    shown = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible(response.content.decode())
        found = sorted(code for code in codes if bare(code, text))
        if found:
            shown[url] = found
    assert not shown, "Pages show internal codes: " + "; ".join(
        f"{url}: {', '.join(found)}" for url, found in shown.items()
    )
