"""Reads of canonical records and their links."""

from ownership.models import Link, Record


def link_external_id(*, record: Record, system: str) -> str | None:
    """Return the record's id in that system, or None when it has none yet."""
    return (
        Link.objects.filter(record=record, system=system)
        .values_list("external_id", flat=True)
        .first()
    )
