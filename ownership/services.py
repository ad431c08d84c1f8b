"""Writes to canonical records and their links."""

from django.db import transaction

from ownership.models import Link, Record


@transaction.atomic
def record_for_link(*, type: str, system: str, external_id: str, label: str = "") -> Record:
    """Return the record linked to this system id, creating both if new."""
    link = (
        Link.objects.select_related("record")
        .filter(record_type=type, system=system, external_id=external_id)
        .first()
    )
    if link is not None:
        if label and link.record.label != label:
            Record.objects.filter(pk=link.record_id).update(label=label)
        return link.record
    record = Record.objects.create(type=type, label=label)
    Link.objects.create(record=record, record_type=type, system=system, external_id=external_id)
    return record


def link_add(*, record: Record, system: str, external_id: str) -> Link:
    """Link a record to its id in another system."""
    return Link.objects.create(
        record=record, record_type=record.type, system=system, external_id=external_id
    )
