"""Reads from the review queue."""

from django.db.models import QuerySet

from review_queue.models import ReviewItem


def review_items_open() -> QuerySet[ReviewItem]:
    """Return the open items, most recently seen first."""
    return ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).order_by("-last_seen")
