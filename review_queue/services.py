"""Writes to the review queue."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from review_queue.actions import action_get
from review_queue.models import ReviewItem


class ResolutionRefused(Exception):
    """The chosen action does not fit the item, or the item is already closed."""


@transaction.atomic
def review_item_open(
    *,
    root_key: str,
    kind: str,
    system: str,
    title: str,
    reason: str,
    action: str,
    record_type: str = "",
    record_ref: str = "",
    record_label: str = "",
    vendor_error: str = "",
) -> ReviewItem:
    """Open an item for this root cause, or count one more occurrence on the open one."""
    existing = (
        ReviewItem.objects.select_for_update()
        .filter(root_key=root_key, status=ReviewItem.Status.OPEN)
        .first()
    )
    if existing is None:
        try:
            with transaction.atomic():
                return ReviewItem.objects.create(
                    root_key=root_key,
                    kind=kind,
                    system=system,
                    title=title,
                    reason=reason,
                    action=action,
                    record_type=record_type,
                    record_ref=record_ref,
                    record_label=record_label,
                    vendor_error=vendor_error,
                )
        except IntegrityError:
            # Another worker opened it between our read and our insert.
            existing = ReviewItem.objects.select_for_update().get(
                root_key=root_key, status=ReviewItem.Status.OPEN
            )
    ReviewItem.objects.filter(pk=existing.pk).update(
        occurrences=F("occurrences") + 1,
        last_seen=timezone.now(),
        vendor_error=vendor_error or existing.vendor_error,
    )
    existing.refresh_from_db()
    return existing


@transaction.atomic
def review_item_resolve(
    *, item: ReviewItem, by: AbstractBaseUser | None, action: str, note: str = ""
) -> str:
    """Apply a registered action (or dismiss) and close the item; return the outcome."""
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if not item.is_open:
        raise ResolutionRefused(f"This item was already {item.get_status_display().lower()}.")
    if action == "dismiss":
        if not note.strip():
            raise ResolutionRefused("Say why you are dismissing this item.")
        outcome, status = "Dismissed.", ReviewItem.Status.DISMISSED
    else:
        registered = action_get(action)
        if registered is None or not registered.applies_to(item):
            raise ResolutionRefused(f"'{action}' is not something that can be done to this item.")
        outcome, status = registered.perform(item), ReviewItem.Status.RESOLVED
    item.status = status
    item.resolution = action
    item.resolution_note = note.strip() or outcome
    item.resolved_at = timezone.now()
    item.resolved_by = by
    item.save()
    return outcome
