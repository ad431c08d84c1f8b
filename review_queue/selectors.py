"""Reads from the review queue."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from review_queue.models import ReviewItem

AGES = {
    "1h": ("Under an hour", timedelta(hours=1), None),
    "1d": ("Under a day", timedelta(days=1), timedelta(hours=1)),
    "7d": ("Under a week", timedelta(days=7), timedelta(days=1)),
    "old": ("Older than a week", None, timedelta(days=7)),
}
SORTS = {
    "-last_seen": "Most recently seen",
    "last_seen": "Least recently seen",
    "first_seen": "Oldest problem first",
    "-occurrences": "Most repeated",
    "kind": "Kind",
}


@dataclass(frozen=True)
class QueueFilter:
    """What a person asked the queue to show."""

    status: str = ReviewItem.Status.OPEN
    kind: str = ""
    system: str = ""
    record: str = ""
    age: str = ""
    assignee: str = ""
    q: str = ""
    sort: str = "-last_seen"

    @classmethod
    def from_query(cls, params) -> "QueueFilter":
        """Read the filter from a query string, ignoring values it does not know."""
        sort = params.get("sort", "-last_seen")
        status = params.get("status", ReviewItem.Status.OPEN)
        return cls(
            status=status if status in ReviewItem.Status.values or status == "all" else "open",
            kind=params.get("kind", "") if params.get("kind") in ReviewItem.Kind.values else "",
            system=params.get("system", "")[:32],
            record=params.get("record", "").strip()[:128],
            age=params.get("age", "") if params.get("age") in AGES else "",
            assignee=params.get("assignee", "")[:16],
            q=params.get("q", "").strip()[:100],
            sort=sort if sort in SORTS else "-last_seen",
        )


def review_items_filtered(f: QueueFilter, *, user=None) -> QuerySet[ReviewItem]:
    """Return the items matching the filter, sorted as asked."""
    items = ReviewItem.objects.select_related("assignee")
    if f.status != "all":
        items = items.filter(status=f.status)
    if f.kind:
        items = items.filter(kind=f.kind)
    if f.system:
        items = items.filter(system=f.system)
    if f.record:
        record_type, _, ref = f.record.rpartition(":")
        items = items.filter(record_ref=ref)
        if record_type:
            items = items.filter(record_type=record_type)
    if f.age:
        _, younger_than, older_than = AGES[f.age]
        now = timezone.now()
        if younger_than:
            items = items.filter(first_seen__gte=now - younger_than)
        if older_than:
            items = items.filter(first_seen__lt=now - older_than)
    if f.assignee == "me" and user is not None:
        items = items.filter(assignee=user)
    elif f.assignee == "none":
        items = items.filter(assignee__isnull=True)
    elif f.assignee.isdigit():
        items = items.filter(assignee_id=int(f.assignee))
    if f.q:
        items = items.filter(
            Q(title__icontains=f.q)
            | Q(record_label__icontains=f.q)
            | Q(record_ref__iexact=f.q)
            | Q(reason__icontains=f.q)
        )
    return items.order_by(f.sort, "-pk")


def review_items_open() -> QuerySet[ReviewItem]:
    """Return the open items, most recently seen first."""
    return ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).order_by("-last_seen")
