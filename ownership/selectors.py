"""Reads of canonical records and their links."""

from ownership.models import Link, Record


def link_external_id(*, record: Record, system: str) -> str | None:
    """Return the record's id in that system, or None when it has none yet."""
    return (
        Link.objects.filter(record=record, system=system)
        .values_list("external_id", flat=True)
        .first()
    )


def invoice_organisation(*, job_number: str, register: str, finance: str) -> str:
    """The organisation (Xero tenant id) holding the invoice of the register's job numbered
    `job_number` in the finance system ("" if none is known)."""
    invoices = Link.objects.filter(
        record_type=Record.Type.INVOICE, system=register, external_id=job_number
    ).values_list("record_id", flat=True)
    found = Link.objects.filter(record_id__in=invoices, system=finance).order_by("pk")
    return found.values_list("organisation", flat=True).first() or ""


def records_moved_from(*, system: str, external_ids: list[str]) -> list[Record]:
    """Return the customers whose link in `system` named one of these ids before the system
    merged it into another (ownership/moves.py): a late event about the old id is theirs."""
    versions = Link.history.filter(
        record_type=Record.Type.CUSTOMER, system=system, external_id__in=external_ids
    )
    return list(Record.objects.filter(pk__in=versions.values("record_id")))


def customer_hub_id(*, record: Record, system: str) -> str:
    """Return the hub's id for the customer in `system`: its own, then a new one after each
    link there that ended (an archived contact keeps the old id, and a new customer made
    there must carry another: Xero's contact numbers are unique even among archived ones)."""
    ended = Link.history.filter(record_id=record.pk, system=system, history_type="-").count()
    return str(record.pk) if not ended else f"{record.pk}-{ended + 1}"
