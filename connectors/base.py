"""What every connector speaks: business events in, plain records out."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol


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
class CustomerDetails:
    """Who the work is for, as the selling system knows them."""

    system: str
    external_id: str
    name: str
    email: str = ""
    phone: str = ""
    address: str = ""
    tax_number: str = ""


@dataclass(frozen=True)
class PromisedLine:
    """A line the customer was promised: what, how many, at what price."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    item_code: str = ""


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


@dataclass(frozen=True)
class JobRef:
    """A job in the operations system, and whether this call created it."""

    number: str
    created: bool


class OperationsConnector(Protocol):
    """What the handoffs need from an operations system (a job register)."""

    system: str

    def customer_create(self, *, details: CustomerDetails) -> str:
        """Create the customer and return its id in the operations system."""
        ...

    def customer_candidates(self, *, details: CustomerDetails) -> list[dict]:
        """Return existing customers ({id, name, why}) that are likely the same one."""
        ...

    def customer_merge(self, *, customer_id: str, details: CustomerDetails) -> None:
        """Fill an existing customer's details from another system's record."""
        ...

    def job_create(self, *, promise: JobPromise, customer_id: str) -> JobRef:
        """Create the job for this promise, or return the one already made for it."""
        ...
