"""One timeline for a record across the three systems."""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone

from handoffs.models import HandoffAttempt, HandoffRun, InboundEvent
from integration_hub import labels
from operations.models import Job
from ownership.models import Link
from review_queue.models import ReviewItem, ReviewLog


@dataclass(frozen=True)
class Entry:
    """One thing that happened to the record."""

    at: datetime
    system: str
    kind: str
    title: str
    detail: str = ""
    url: str = ""


def record_keys(*, system: str, type: str, ref: str) -> set[tuple[str, str]]:
    """Return every (system, id) the record has, following links and deal → job origins."""
    keys = {(system, ref)}
    found = dict(system=system, record_type=type, external_id=ref)
    # The record linked to the id now, or last (a link a system's merge moved on).
    link = Link.objects.filter(**found).first() or Link.history.filter(**found).first()
    if link:
        linked = Link.objects.filter(record_id=link.record_id)
        keys |= set(linked.values_list("system", "external_id"))
    if type == "deal":
        jobs = Job.objects.filter(origin_system=system, origin_ref=ref)
        keys |= {("operations", number) for number in jobs.values_list("number", flat=True)}
    if type == "job":
        job = Job.objects.filter(number=ref).first()
        if job and job.origin_ref:
            keys.add((job.origin_system, job.origin_ref))
    return keys


def _matching(keys: set[tuple[str, str]], system_field: str, ref_field: str) -> Q:
    query = Q(pk__in=[])
    for system, ref in keys:
        query |= Q(**{system_field: system, ref_field: ref})
    return query


def _shown(field, value) -> str:
    """A job's field value as its page shows it: a status's words, a crew's name, a date."""
    if value in (None, ""):
        return "—"
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if field is not None and field.is_relation:
        found = field.related_model.objects.filter(pk=value).first()
        return str(found) if found is not None else "—"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")
    return str(value)


def _change_said(change) -> str:
    """One change of a job's history in words: "status: Scheduled → In progress"."""
    try:
        field = Job._meta.get_field(change.field)
    except FieldDoesNotExist:
        field = None
    name = str(field.verbose_name) if field is not None else change.field.replace("_", " ")
    return f"{name}: {_shown(field, change.old)} → {_shown(field, change.new)}"


def _job_changes(numbers: list[str]) -> list[Entry]:
    entries = []
    for job in Job.objects.filter(number__in=numbers):
        versions = list(job.history.select_related("history_user").order_by("history_date"))
        for older, newer in zip([None, *versions], versions, strict=False):
            who = newer.history_user.get_username() if newer.history_user else "the hub"
            if older is None:
                title, detail = f"Job {job.number} created", f"by {who}"
            else:
                changes = newer.diff_against(older).changes
                if not changes:
                    continue
                title = f"Job {job.number} changed by {who}"
                detail = "; ".join(_change_said(c) for c in changes)
            entries.append(
                Entry(
                    newer.history_date,
                    "operations",
                    "change",
                    title,
                    detail,
                    reverse("operations:job_detail", args=[job.number]),
                )
            )
    return entries


def _link_changes(keys: set[tuple[str, str]], type: str) -> list[Entry]:
    """Each link of the record made, moved (a system merged it away) or ended, by whom."""
    ids = Link.history.filter(_matching(keys, "system", "external_id"), record_type=type)
    records = set(ids.values_list("record_id", flat=True))
    versions = Link.history.filter(record_id__in=records).select_related("history_user")
    entries, last = [], {}
    for version in versions.order_by("history_date", "history_id"):
        who = version.history_user.get_username() if version.history_user else "the hub"
        label = labels.label("system", version.system)
        before = last.get(version.id)
        if version.history_type == "+":
            title = f"Linked to {label}'s {version.external_id}"
        elif version.history_type == "-":
            title = f"Link to {label}'s {version.external_id} ended"
        elif before is not None and before != version.external_id:
            title = f"Link moved in {label}: {before} → {version.external_id}"
        else:
            title = f"Link to {label}'s {version.external_id} kept"
        last[version.id] = version.external_id
        detail = f"by {who}" + (f": {version.reason}" if version.reason else "")
        entries.append(Entry(version.history_date, version.system, "link", title, detail))
    return entries


def record_trail(*, system: str, type: str, ref: str) -> list[Entry]:
    """Return the record's timeline: events, runs and attempts, changes, review items."""
    keys = record_keys(system=system, type=type, ref=ref)
    entries: list[Entry] = []
    for event in InboundEvent.objects.filter(_matching(keys, "source", "object_id")):
        detail = event.note
        if event.payload.get("propertyName"):
            change = labels.property_change(
                event.source, event.payload["propertyName"], event.payload.get("propertyValue")
            )
            detail = f"{change}. {event.note}"
        title = f"Received: {labels.event_label(event.event_type)}"
        entries.append(Entry(event.received_at, event.source, "event", title, detail))
    runs = HandoffRun.objects.filter(_matching(keys, "record_system", "record_ref"))
    for attempt in HandoffAttempt.objects.filter(run__in=runs).select_related("run"):
        url = reverse("handoffs:run_detail", args=[attempt.run_id])
        handoff = labels.label("handoff", attempt.run.handoff)
        title = f"{handoff}: attempt {attempt.number}, {attempt.get_outcome_display().lower()}"
        system = attempt.run.record_system
        entries.append(Entry(attempt.started_at, system, "run", title, attempt.message, url))
    for run in runs.filter(state=HandoffRun.State.DISMISSED):
        url = reverse("handoffs:run_detail", args=[run.pk])
        title = f"{labels.label('handoff', run.handoff)}: ended, its review item dismissed"
        entries.append(Entry(run.finished_at, run.record_system, "run", title, run.summary, url))
    items = ReviewItem.objects.filter(_matching(keys, "system", "record_ref"))
    for item in items:
        url = reverse("review_queue:detail", args=[item.pk])
        entries.append(
            Entry(
                item.first_seen,
                item.system,
                "review",
                f"Review item opened: {item.title}",
                item.reason,
                url,
            )
        )
    for entry in ReviewLog.objects.filter(item__in=items).select_related("by", "item"):
        who = entry.by.get_username() if entry.by else "the hub"
        entries.append(
            Entry(
                entry.at,
                "hub",
                "resolution",
                f"{who}: {labels.label('review_action', entry.action)} on “{entry.item.title}”",
                f"{entry.outcome} Note: {entry.note}" if entry.note else entry.outcome,
            )
        )
    entries += _job_changes([ref for system, ref in keys if system == "operations"])
    entries += _link_changes(keys, type)
    return sorted(entries, key=lambda e: e.at, reverse=True)
