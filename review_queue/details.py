"""What each kind of review item carries for its page and its actions, typed per kind.

Items keep their details as JSON; these dataclasses are the one shape each kind's JSON
has. `details_of(item)` reads it back.
"""

import dataclasses
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class MissingData:
    """Data a person must fix at its source, then Retry (an unknown item code, no company)."""

    field: str = ""
    job: str = ""
    bad_item_codes: list[str] = dataclasses.field(default_factory=list)
    # A setting the finance system will not take, and the codes it would.
    setting: str = ""
    allowed_codes: list[str] = dataclasses.field(default_factory=list)
    # A tracking category the lines cannot carry the job's option in, and the options the
    # finance system has there.
    category: str = ""
    option: str = ""
    options: list[str] = dataclasses.field(default_factory=list)
    # The hub's settings page where an admin fixes it ("xero": the Xero page).
    page: str = ""
    # The finance organisation (Xero tenant id) that refused it, when it has several.
    organisation: str = ""


@dataclass(frozen=True)
class Candidate:
    """An existing customer that may be the same one, and why the hub thinks so."""

    id: str
    name: str
    why: str


@dataclass(frozen=True)
class PossibleDuplicate:
    """A customer seen in one system that may already exist in another (`target`)."""

    new: dict  # connectors.base.CustomerDetails as JSON
    target: str
    candidates: list[Candidate]
    record: int | None = None  # the hub's record of the new customer, once it has one
    # The target's organisation the candidates are in (a Xero tenant id), when it has several.
    organisation: str = ""


@dataclass(frozen=True)
class OtherValue:
    """A system's copy of a field that differs from its owner's."""

    system: str
    label: str
    name: str  # what the system calls the field
    value: Any  # ownership.values.stored form
    shown: str


@dataclass(frozen=True)
class Disagreement:
    """A field whose copy was changed where it is not owned; the rule says a person decides."""

    record: int
    record_type: str
    field: str
    label: str
    owner: str
    owner_label: str
    owner_value: Any
    owner_shown: str
    others: list[OtherValue]
    editable_by: str


@dataclass(frozen=True)
class QuoteChanged:
    """What a deal promised changed after its job started: before and after, side by side."""

    record: int
    field: str
    job: str
    deal: str
    before: list[str]
    after: list[str]


@dataclass(frozen=True)
class PromiseDiffers:
    """A finished job whose deal promised another amount than its lines come to; money is
    text with two decimals, both figures in the same terms (`gst`)."""

    job: str
    deal: str
    deal_system: str
    promised: str
    lines: str
    gst: str  # "including GST" or "excluding GST": the terms the line prices are in


@dataclass(frozen=True)
class FiguresDiffer:
    """A draft invoice whose figures in the finance system differ from the hub's: subtotal,
    tax and total each, as text with two decimals."""

    job: str
    invoice: str
    hub: list[str]
    finance: list[str]


@dataclass(frozen=True)
class TrackingNotKept:
    """A draft invoice whose lines, read back from the finance system, lack the tracking
    ("Region: NSW") they were sent with."""

    job: str
    invoice: str
    missing: list[str]


@dataclass(frozen=True)
class ApprovedInvoiceChanged:
    """A job whose lines changed after its invoice was approved (the finance system edits no
    approved invoice): money is text with two decimals, in the invoice's currency."""

    job: str
    invoice: str
    invoice_id: str
    status: str  # the invoice's payment status: submitted, awaiting_payment, part_paid...
    currency: str
    invoiced: str  # the approved invoice's total
    due: str  # what is still due on it
    now: str  # what the job's lines come to now
    lines: list[str]  # the job's lines now


@dataclass(frozen=True)
class ActiveJobAffected:
    """A customer's detail changed while jobs that depend on it are active."""

    field: str
    value: str
    jobs: list[str]
    record: int | None = None
    # The detail before the change.
    was: str = ""


@dataclass(frozen=True)
class Found:
    """Something the check that the systems agree found that no event told of."""

    check: str  # handoffs.models.ReconcileFinding.Kind, or "unfinished" for a check itself
    record: int | None = None
    job: str = ""
    invoice: str = ""


@dataclass(frozen=True)
class CustomerMerged:
    """A customer merged, in one system, into a record the hub links to another customer."""

    record: int  # the hub's customer whose link names the merged-away id
    other: int  # the hub's customer linked to the survivor
    system: str
    merged_id: str
    survivor: str


@dataclass(frozen=True)
class CustomerArchived:
    """A customer's record archived in its system with no survivor to follow."""

    record: int
    system: str
    external_id: str


KINDS: dict[str, type] = {
    "missing_data": MissingData,
    "possible_duplicate": PossibleDuplicate,
    "disagreement": Disagreement,
    "quote_changed": QuoteChanged,
    "promise_differs": PromiseDiffers,
    "figures_differ": FiguresDiffer,
    "tracking_not_kept": TrackingNotKept,
    "approved_invoice_changed": ApprovedInvoiceChanged,
    "active_job_affected": ActiveJobAffected,
    "found": Found,
    "customer_merged": CustomerMerged,
    "customer_archived": CustomerArchived,
}


def details_checked(kind: str, details: dict | None) -> dict:
    """The details an item of this kind keeps, checked against its kind's shape.

    A key the kind does not have, or a required one missing, is a bug in the caller: it
    raises TypeError rather than storing details no page or action can read.
    """
    shape = KINDS.get(kind)
    if shape is None or not details:
        return details or {}
    names = {each.name for each in fields(shape)}
    unknown = set(details) - names
    if unknown:
        raise TypeError(f"A {kind} item has no details {', '.join(sorted(unknown))}.")
    return asdict(_build(shape, details))


def details_of(item) -> Any:
    """Return the item's details as its kind's dataclass (None for kinds without details)."""
    shape = KINDS.get(item.kind)
    if shape is None or not item.details:
        return None
    return _build(shape, item.details)


def _build(shape: type, data: dict) -> Any:
    values = {}
    for each in fields(shape):
        if each.name not in data:
            continue
        value = data[each.name]
        if each.name == "others":
            value = [OtherValue(**other) for other in value]
        elif each.name == "candidates":
            value = [Candidate(**candidate) for candidate in value]
        values[each.name] = value
    return shape(**values)
