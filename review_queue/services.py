"""Writes to the review queue."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from integration_hub import labels
from integration_hub.celery import app
from integration_hub.commit import after_commit
from review_queue.actions import ActionFailed, action_get, dismissal_effects
from review_queue.details import details_checked
from review_queue.models import ReviewItem, ReviewLog

NOTIFY = "review_queue.tasks.notify_new_item"


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
    details: dict | None = None,
) -> ReviewItem:
    """Open an item for this root cause, or count one more occurrence on the open one.

    `details` must have the shape of the kind's dataclass (review_queue/details.py).
    """
    details = details_checked(kind, details)
    existing = (
        ReviewItem.objects.select_for_update()
        .filter(root_key=root_key, status=ReviewItem.Status.OPEN)
        .first()
    )
    if existing is None:
        try:
            with transaction.atomic():
                item = ReviewItem.objects.create(
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
                    details=details or {},
                )
            after_commit(app.send_task, NOTIFY, args=[item.pk])
            return item
        except IntegrityError:
            # Another worker opened it between our read and our insert.
            existing = ReviewItem.objects.select_for_update().get(
                root_key=root_key, status=ReviewItem.Status.OPEN
            )
    ReviewItem.objects.filter(pk=existing.pk).update(
        occurrences=F("occurrences") + 1,
        last_seen=timezone.now(),
        # What happened last is what the item says (the same root, seen anew).
        reason=reason,
        action=action,
        vendor_error=vendor_error or existing.vendor_error,
        details=details or existing.details,
    )
    existing.refresh_from_db()
    return existing


def _not_for_this_item(action: str) -> str:
    return (
        f"“{labels.label('review_action', action)}” is not something that can be done to this item."
    )


def _log(
    item: ReviewItem, *, by, action: str, note: str = "", outcome: str = "", succeeded: bool = True
) -> ReviewLog:
    return ReviewLog.objects.create(
        item=item, by=by, action=action, note=note, outcome=outcome, succeeded=succeeded
    )


def _close(item: ReviewItem, *, by, action: str, status: str, note: str) -> None:
    item.status = status
    item.resolution = action
    item.resolution_note = note
    item.resolved_at = timezone.now()
    item.resolved_by = by
    item.save()


@transaction.atomic
def review_item_settle(*, root_key: str, outcome: str) -> bool:
    """Close the open item for this root cause because the problem went away by itself (the
    systems agree again); return whether there was one."""
    item = (
        ReviewItem.objects.select_for_update()
        .filter(root_key=root_key, status=ReviewItem.Status.OPEN)
        .first()
    )
    if item is None:
        return False
    _close(item, by=None, action="settled", status=ReviewItem.Status.RESOLVED, note=outcome)
    _log(item, by=None, action="settled", outcome=outcome)
    return True


def review_item_resolve(
    *,
    item: ReviewItem,
    by: AbstractBaseUser | None,
    action: str,
    note: str = "",
    values: dict | None = None,
) -> str:
    """Apply a registered action (or dismiss) and close the item; return the outcome.

    Every attempt is logged, the refused and failed ones too.
    """
    values, note = values or {}, note.strip()
    try:
        with transaction.atomic():
            item = ReviewItem.objects.select_for_update().get(pk=item.pk)
            if not item.is_open:
                raise ResolutionRefused(
                    f"This item was already {item.get_status_display().lower()}."
                )
            if action == "dismiss":
                if not note:
                    raise ResolutionRefused("Say why you are dismissing this item.")
                _close(item, by=by, action=action, status=ReviewItem.Status.DISMISSED, note=note)
                outcome = " ".join(["Dismissed.", *dismissal_effects(item, by, note)])
            else:
                registered = action_get(action)
                if registered is None or not registered.applies_to(item):
                    raise ResolutionRefused(_not_for_this_item(action))
                outcome = registered.perform(item, values, by)
                if registered.closes_item:
                    _close(
                        item,
                        by=by,
                        action=action,
                        status=ReviewItem.Status.RESOLVED,
                        note=note or outcome,
                    )
            _log(item, by=by, action=action, note=note, outcome=outcome)
            return outcome
    except (ResolutionRefused, ActionFailed) as refused:
        _log(item, by=by, action=action, note=note, outcome=str(refused), succeeded=False)
        raise ResolutionRefused(str(refused)) from refused


def review_item_preview(*, item: ReviewItem, action: str, values: dict | None = None) -> str:
    """Return what an action would do, without doing it."""
    registered = action_get(action)
    if registered is None or not registered.applies_to(item):
        raise ResolutionRefused(_not_for_this_item(action))
    if registered.preview is None:
        return registered.explanation
    try:
        return registered.preview(item, values or {})
    except ActionFailed as failed:
        raise ResolutionRefused(str(failed)) from failed


@transaction.atomic
def review_item_assign(*, item: ReviewItem, by: AbstractBaseUser | None, assignee) -> None:
    """Give an item to a person (or to nobody) and log who did it."""
    ReviewItem.objects.filter(pk=item.pk).update(assignee=assignee)
    item.assignee = assignee
    name = assignee.get_username() if assignee else "nobody"
    _log(item, by=by, action="assign", outcome=f"Assigned to {name}.")
