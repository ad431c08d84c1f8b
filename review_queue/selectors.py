"""Reads from the review queue."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
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
# Each sort in full, the id breaking ties, in the order of one of ReviewItem's indexes.
ORDERINGS = {
    "-last_seen": ("-last_seen", "-pk"),
    "last_seen": ("last_seen", "pk"),
    "first_seen": ("first_seen", "pk"),
    "-occurrences": ("-occurrences", "-pk"),
    "kind": ("kind", "-last_seen", "-pk"),
}
# Past this many matching items the queue says "more than" instead of counting them all:
# an exact count of a million open items takes longer than drawing the page.
COUNT_CAP = 10_000


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
    return items.order_by(*ORDERINGS[f.sort])


@dataclass(frozen=True)
class QueuePage:
    """One page of items and what is known of how many there are, without counting them all:
    `count` is exact when `exact`, otherwise the items are more than `count`."""

    number: int
    size: int
    object_list: list[ReviewItem]
    has_next: bool
    count: int
    exact: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def past_end(self) -> bool:
        return not self.object_list and self.number > 1


def review_items_page(
    items: QuerySet[ReviewItem], *, number: int, size: int, annotations: dict | None = None
) -> QueuePage:
    """Return page `number` of the items, never another one when it is past the end.

    1. Read the page's ids (and one more, to know if a next page exists) from the index
       that matches the order, skipping index entries rather than rows.
    2. Load those rows (with `annotations`, for these rows alone).
    3. Count: the page itself tells the count when it is the last one; otherwise count up to
       COUNT_CAP; a page past the end counts exactly, to say how many pages there are.
    """
    offset = (number - 1) * size
    ids = list(items.values_list("pk", flat=True)[offset : offset + size + 1])
    has_next = len(ids) > size
    ids = ids[:size]
    rows = items.annotate(**(annotations or {})).in_bulk(ids)
    object_list = [rows[pk] for pk in ids]
    if has_next:
        capped = items.values("pk").order_by()[: COUNT_CAP + 1].count()
        exact = capped <= COUNT_CAP
        count = capped if exact else max(COUNT_CAP, offset + size)
    elif ids or number == 1:
        count, exact = offset + len(ids), True
    else:
        count, exact = items.count(), True
    return QueuePage(number, size, object_list, has_next, count, exact)


# How many handoff runs wait on each item: what Retry needs to know, read with the page's
# rows instead of once an item (handoffs/review_actions/retry.py uses it when present).
WAITING_RUNS = {"waiting_runs": Count("runs", filter=Q(runs__state="needs_review"))}


def review_items_open() -> QuerySet[ReviewItem]:
    """Return the open items, most recently seen first."""
    return ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).order_by("-last_seen")
