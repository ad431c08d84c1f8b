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
