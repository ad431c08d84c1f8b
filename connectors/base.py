"""What every connector speaks: business events in, the hub's own plain records out.

Above connectors/, the hub sees these dataclasses and protocols only, never a vendor SDK's
types. A system plays one role (crm, finance, operations); connectors/registry.py says
which connector plays which. Adding a CRM is one package implementing `CrmConnector`
plus a registration (connectors/README.md, "Adding a CRM").
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

from connectors.errors import AuthExpired, ConnectorError
from operations.money import Figures, price_text
from operations.money import unit_price as unit_price  # for the layers above: one precision

# How a line is taxed, in the hub's words (the finance connector maps each to a tax type).
TAX_TREATMENTS = {"gst": "GST", "gst_free": "GST-free", "none": "no GST"}


@dataclass(frozen=True)
class VendorEvent:
    """One event as a system sent it, with the key that identifies it across retries."""

    delivery_key: str
    event_type: str
    object_id: str
    payload: dict


@dataclass(frozen=True)
class BusinessEvent:
    """A vendor event in the hub's words, e.g. deal.stage_changed for deal 123."""

    type: str
    system: str
    object_id: str
    data: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Address:
    """A postal address as every system can hold it: street, city, region, postcode, country."""

    street: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""

    def __bool__(self) -> bool:
        return any((self.street, self.city, self.region, self.postcode, self.country))

    def line(self) -> str:
        """The address on one line, as people write it."""
        parts = (self.street, self.city, self.region, self.postcode, self.country)
        return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class PromisedLine:
    """A line the customer was promised: what, how many, at what price, how it is taxed."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    item_code: str = ""
    tax: str = "gst"  # one of TAX_TREATMENTS
    discount: Decimal = Decimal("0")  # the discount (%) off the line's price

    def text(self) -> str:
        """The line as short comparable text: '2 x Labour (LABOUR-HR) at 110.00', with
        ' less 10%' after a discounted price and ', GST-free' or ', no GST' after a line not
        taxed at the GST rate."""
        taxed = "" if self.tax == "gst" else f", {TAX_TREATMENTS.get(self.tax, self.tax)}"
        less = f" less {self.discount.normalize():f}%" if self.discount else ""
        return (
            f"{self.quantity.normalize():f} x {self.description} "
            f"({self.item_code or 'no code'}) at {price_text(self.unit_price)}{less}{taxed}"
        )


# A shared field's value as the hub holds it: text (names, emails, phones, ABNs, statuses),
# an Address, an amount, a date, or a deal's lines. None when the system has none.
Value = str | Address | Decimal | date | tuple[PromisedLine, ...] | None


def abn_forms(tax_number: str) -> list[str]:
    """An ABN as a system may hold it: plain and spaced 2-3-3-3; nothing for other numbers.

    Each system keeps its own spacing (a restored ABN is written as the owner writes it);
    looking one up tries both forms.
    """
    digits = "".join(ch for ch in tax_number or "" if ch.isdigit())
    if len(digits) != 11:
        return []
    return [digits, f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"]


@dataclass(frozen=True)
class CustomerDetails:
    """Who a customer is, as one system knows them."""

    system: str
    external_id: str
    name: str
    email: str = ""
    phone: str = ""
    address: Address = field(default_factory=Address)
    tax_number: str = ""
    contact_name: str = ""

    @classmethod
    def from_values(
        cls, system: str, external_id: str, values: dict[str, Value]
    ) -> "CustomerDetails":
        """The details a system's shared values of a customer say (shared_values' inverse)."""
        address = values.get("billing_address")
        return cls(
            system=system,
            external_id=external_id,
            name=str(values.get("billing_name") or ""),
            email=str(values.get("email") or ""),
            phone=str(values.get("phone") or ""),
            address=address if isinstance(address, Address) else Address(),
            tax_number=str(values.get("tax_number") or ""),
            contact_name=str(values.get("contact_name") or ""),
        )

    def shared_values(self) -> dict[str, Value]:
        """These details as the shared fields the hub keeps for customers."""
        return {
            "billing_name": self.name,
            "billing_address": self.address,
            "tax_number": self.tax_number,
            "contact_name": self.contact_name,
            "email": self.email,
            "phone": self.phone,
        }


@dataclass(frozen=True)
class CustomerMoved:
    """A customer a system no longer keeps under the id the hub knows: merged into another
    (`survivor`, its id there now), or archived with no survivor (`survivor` empty)."""

    external_id: str
    survivor: str = ""


@dataclass(frozen=True)
class JobPromise:
    """Everything a won deal or accepted quote promised, ready to become a job."""

    origin_system: str
    origin_ref: str
    title: str
    customer: CustomerDetails
    amount: Decimal
    currency: str
    lines: tuple[PromisedLine, ...]
    site_address: str
    site_contact: str
    notes: str
    # Whether the line prices include GST (a quote written tax inclusive).
    prices_include_gst: bool = False


@dataclass(frozen=True)
class DealState:
    """A deal as the CRM has it now: its stage, and what it promised if the stage is won."""

    deal_id: str
    title: str
    stage: str
    won: bool
    promise: JobPromise | None = None
    # Why a won deal cannot become a job yet (no company, a bad number), in plain words.
    problem: Exception | None = None


@dataclass(frozen=True)
class JobRef:
    """A job in the operations system, and whether this call created it."""

    number: str
    created: bool


@dataclass(frozen=True)
class JobLineFacts:
    """One line of a job as finance invoices it."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    item_code: str
    tax: str  # gst, gst_free or none
    rate: Decimal  # the rate of tax (%) the treatment charges
    discount: Decimal = Decimal("0")  # the discount (%) off the line's price


@dataclass(frozen=True)
class JobFacts:
    """A job as the hub's flows need it."""

    number: str
    title: str
    status: str
    customer_id: str
    customer: CustomerDetails
    origin_system: str
    origin_ref: str
    lines: tuple[JobLineFacts, ...]
    prices_include_gst: bool
    invoice_number: str
    # What the deal or quote promised, and what the lines come to: both in the terms the
    # line prices are in (GST included when prices_include_gst, else not).
    amount: Decimal
    lines_total: Decimal
    # The invoice's subtotal, GST and total, each line rounded as the finance system does.
    figures: Figures
    # What the finance system's tracking may be told of the job: its crew and its site's
    # state (empty when it has none).
    crew: str = ""
    site_region: str = ""
    # The job's invoice as the finance system last said (a payment status), and the
    # currency its prices are in (the deal's).
    invoice_status: str = ""
    currency: str = "AUD"

    @property
    def label(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def lines_as_promised(self) -> bool:
        """Whether the lines come to the amount promised."""
        return self.amount == self.lines_total


@dataclass(frozen=True)
class Notice:
    """Something a write made a person need to know (an active job at a changed address).

    The engine opens it as a review item of `kind`; `root` makes repeats one item.
    """

    kind: str
    title: str
    reason: str
    fix: str
    root: str
    details: dict = field(default_factory=dict)


class RecordStore(Protocol):
    """A system's side of the shared fields: what it can read and write, in the hub's values.

    `fields` maps (record type, field) to the field's name in the system. The ownership
    engine reads a record's values in one call per system, and writes only what differs.
    """

    system: str
    label: str
    fields: Mapping[tuple[str, str], str]

    def values_read(self, record_type: str, ids: list[str]) -> dict[str, dict[str, Value]]:
        """Return each record's current values of every field this system has for the type."""
        ...

    def values_write(
        self, record_type: str, changes: dict[str, dict[str, Value]]
    ) -> dict[str, list[Notice] | ConnectorError]:
        """Write fields on many records ({external id: values}), batched as the system
        allows; answer each record's outcome: what a person must be told, or the error
        that record met (the others are written)."""
        ...

    def write_held(
        self, record_type: str, external_id: str, values: dict[str, Value]
    ) -> Notice | None:
        """Return why a person must approve this write first (work under way), or None."""
        ...

    def business_event(self, payload: dict) -> BusinessEvent | None:
        """Return the business event one of the system's stored events stands for, if any."""
        ...


class CustomerDirectory(Protocol):
    """The customers a system holds, for linking one customer across systems."""

    system: str

    def customer_read(self, external_id: str) -> CustomerDetails:
        """Return what the system knows of one customer."""
        ...

    def customer_candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        """Return the system's customers that might be this one (same ABN, email or name)."""
        ...

    def customers_changed(self, since: datetime | None) -> list[CustomerDetails]:
        """Return the customers changed after `since` (every one without it), many a call:
        what the nightly reconciliation matches when no event told of them."""
        ...

    def customers_moved(
        self, ids: list[str], *, unless_read_lately: bool = False
    ) -> dict[str, CustomerMoved]:
        """Return those of these customers merged into another or archived (by id), many a
        call; customers kept as they were, and ones deleted outright, are left out.

        `unless_read_lately`: leave unread the customers the hub read lately (a change since
        comes as an event, and a write the system refuses asks again without it).
        """
        ...


class CrmConnector(RecordStore, CustomerDirectory, Protocol):
    """What the hub needs from a CRM: deals and what they promised, customers, shared fields."""

    def deal_state(self, deal_id: str) -> DealState:
        """Return the deal's stage now and, when it is won, what it promised."""
        ...

    def stage(self, stage_id: str) -> tuple[str, bool]:
        """Return a deal stage's name and whether a deal at it is won (cheap: no read of
        any deal)."""
        ...

    def customers_of_contact(self, contact_id: str) -> list[str]:
        """Return the customers (companies) a contact person belongs to."""
        ...

    def deals_lost(self, deal_ids: list[str]) -> dict[str, str]:
        """Return which of these deals are lost (closed and not won): id → the stage's name."""
        ...

    def deals_property(self, deal_ids: list[str], name: str) -> dict[str, str]:
        """Return one property of many deals (id → its value, empty when unset), in few
        calls; deals that are gone are left out."""
        ...

    def deals_won_unworked(self) -> dict[str, str]:
        """Return the won deals the hub made no job for yet: id → their stage's id."""
        ...

    def deals_pipeline(self, deal_ids: list[str]) -> dict[str, str]:
        """Return the pipeline each of these deals is in now: deal id → pipeline id."""
        ...

    def pipelines(self) -> dict[str, str]:
        """Return every deal pipeline: id → its name."""
        ...


class OperationsConnector(RecordStore, CustomerDirectory, Protocol):
    """What the hub needs from an operations system (a job register)."""

    def customer_create(self, *, details: CustomerDetails) -> str:
        """Create the customer and return its id in the operations system."""
        ...

    def customer_merge(self, *, customer_id: str, details: CustomerDetails) -> None:
        """Fill an existing customer's empty details from another system's record."""
        ...

    def job_create(self, *, promise: JobPromise, customer_id: str) -> JobRef:
        """Create the job for this promise, or return the one already made for it."""
        ...

    def job_read(self, number: str) -> JobFacts:
        """Return a job as the flows need it (NotFound when there is none)."""
        ...

    def jobs_invoiced_next(self, limit: int) -> dict[str, str]:
        """Return customer id → the number of its job whose invoice comes next, for up to
        `limit` customers, in the order their invoices come."""
        ...

    def job_for_origin(self, system: str, ref: str) -> str | None:
        """Return the number of the job made for this deal or quote, if any."""
        ...

    def jobs_to_invoice(self) -> list[str]:
        """Return the jobs finished and never invoiced (numbers)."""
        ...

    def jobs_by_state(self, numbers: list[str]) -> dict[str, str]:
        """Return these jobs' states: "active", "finished" or "cancelled" (unknown ones left
        out)."""
        ...

    def job_item_codes_replace(self, number: str, old: list[str], new: str) -> int:
        """Use item code `new` on the job's lines that have one of `old`; return how many."""
        ...

    def job_invoice_figures(self, number: str, figures: Figures) -> None:
        """Keep the finance system's subtotal, tax and total for the job's draft invoice."""
        ...


@dataclass(frozen=True)
class InvoiceLine:
    """One line to invoice: what, how many, at what price, and its GST treatment."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    item_code: str = ""
    tax: str = "gst"  # gst, gst_free or none: the finance connector maps it to a tax type
    rate: Decimal = Decimal("10")  # the rate (%) the treatment charges: its tax type's rate
    discount: Decimal = Decimal("0")  # the discount (%) off the line's price


@dataclass(frozen=True)
class Tracking:
    """A tracking category of the finance system and the option a line carries in it
    (Region: NSW), by their names."""

    category: str
    option: str

    def text(self) -> str:
        return f"{self.category}: {self.option}"


@dataclass(frozen=True)
class InvoiceDraft:
    """A draft invoice for one job, to one customer, referenced by the job's number."""

    reference: str
    customer_id: str  # the customer's id in the finance system
    lines: tuple[InvoiceLine, ...]
    prices_include_gst: bool
    issued: date
    # The tracking every line carries (admins map job fields to categories).
    tracking: tuple[Tracking, ...] = ()
    currency: str = "AUD"  # the finance system uses its own rate for the day: none is sent


@dataclass(frozen=True)
class InvoiceMade:
    """An invoice as the finance system holds it (made now, or found by its reference)."""

    reference: str
    invoice_id: str = ""
    number: str = ""
    # A payment status: draft, awaiting_payment, part_paid, paid, credited, voided, ...
    status: str = ""
    total: Decimal = Decimal("0")
    amount_paid: Decimal = Decimal("0")
    amount_due: Decimal = Decimal("0")
    customer_name: str = ""
    # The system's own subtotal and tax (total is above), to set beside the hub's figures.
    subtotal: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    currency: str = ""
    # Set when the system refused it: the hub's error, naming the problem and the fix.
    refused: Exception | None = None
    # The tracking each line holds, as the system keeps it.
    lines_tracking: tuple[frozenset[Tracking], ...] = ()

    @property
    def figures(self) -> Figures:
        return Figures(self.subtotal, self.tax, self.total)

    @property
    def approved(self) -> bool:
        """Approved (submitted, awaiting payment, paid...): the finance system no longer lets
        its lines be changed."""
        return self.status not in ("draft", "voided", "deleted", "")


@dataclass(frozen=True)
class CreditMade:
    """A credit note against an invoice: how much of it went to the invoice, and how much
    is left as the customer's credit."""

    credit_note_id: str
    number: str
    total: Decimal
    allocated: Decimal
    remaining: Decimal
    currency: str


@dataclass(frozen=True)
class CustomerMade:
    """A customer the finance system made (its id), or why it would not."""

    key: str
    customer_id: str = ""
    refused: Exception | None = None


class FinanceConnector(RecordStore, CustomerDirectory, Protocol):
    """What the hub needs from a finance system: customers, invoices, accepted quotes.

    A finance system may hold several organisations (Xero tenants): `within` gives the
    connector reaching one; without one named, calls reach the default organisation.
    """

    def within(self, organisation: str) -> "FinanceConnector":
        """This connector reaching one organisation ("" for the default)."""
        ...

    def organisation_default(self) -> str:
        """The id of the default organisation (raises the typed cause when none is known)."""
        ...

    def organisations(self) -> dict[str, str]:
        """Every organisation connected now: id → name."""
        ...

    def customers_sought(
        self, hub_ids: list[str], many: list[CustomerDetails]
    ) -> tuple[dict[str, str], list[list[CustomerDetails]]]:
        """Return the customers that carry the hub's ids (hub id → their id) and the
        customers that may be each of `many` (in order), found together in few calls."""
        ...

    def customers_create(
        self, new: list[tuple[str, CustomerDetails]], *, idempotency_key: str
    ) -> list[CustomerMade]:
        """Create customers carrying the hub's ids ((hub id, details) each), many a call."""
        ...

    def invoices_create(
        self, drafts: list[InvoiceDraft], *, idempotency_key: str, read_ahead: list[str]
    ) -> list[InvoiceMade]:
        """Create draft invoices (due dates from each customer's terms), in order.

        `read_ahead`: customers whose invoices come next, whose terms may be read now.
        """
        ...

    def invoices_by_reference(
        self, references: list[str], *, besides: frozenset[str] = frozenset()
    ) -> dict[str, InvoiceMade]:
        """Return the invoices (not voided or deleted, and none of the ids `besides`) whose
        reference is one of these."""
        ...

    def invoice_read(self, invoice_id: str) -> InvoiceMade:
        """Return one invoice as the finance system holds it now."""
        ...

    def invoice_credit(self, invoice_id: str) -> CreditMade:
        """Credit an approved invoice in full, once: one credit note allocated to it (found
        when an earlier attempt made it)."""
        ...

    def invoice_currencies_check(self, jobs: dict[str, str]) -> dict[str, Exception]:
        """Return, per job (number → its currency), why the finance system cannot invoice
        it in that currency; jobs it can are left out."""
        ...

    def invoices_changed(self, since: datetime | None) -> list[InvoiceMade]:
        """Return the sales invoices changed after `since` (every one without it)."""
        ...

    def invoices_by_id(self, invoice_ids: list[str]) -> dict[str, InvoiceMade]:
        """Return these invoices as the system holds them now (read back), by id."""
        ...

    def item_codes(self) -> list[str]:
        """Return the item codes the organisation knows."""
        ...

    def tracking_check(self, jobs: dict[str, tuple[Tracking, ...]]) -> dict[str, Exception]:
        """Return, per job (its number), why the system would not take its lines' tracking
        (a category or option it does not have, or has archived), before anything is sent;
        jobs whose tracking it takes are left out."""
        ...

    def invoice_lines_check(self, jobs: dict[str, tuple[InvoiceLine, ...]]) -> dict[str, Exception]:
        """Return, per job (its number), why its lines cannot be invoiced as the settings
        say (an account or tax type the system has archived or does not allow on the
        account), before anything is sent; jobs whose lines can be are left out."""
        ...

    def quote_state(self, quote_id: str, *, tenant: str | None = None) -> DealState:
        """Return an accepted-or-not quote, and what it promised."""
        ...

    def poll(
        self,
        *,
        store: Callable[[list[VendorEvent]], int],
        refused: Callable[[AuthExpired], object],
    ) -> dict[str, int]:
        """Store (through `store`) what changed since the last poll; tell `refused` of a
        connection the system refused. Return counts by resource."""
        ...
