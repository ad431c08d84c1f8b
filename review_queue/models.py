"""The problem ledger: what the hub could not do by itself and a person must decide."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from simple_history.models import HistoricalRecords

from integration_hub import labels

# The systems an item can be in, for the queue's filter.
SYSTEMS = [(code, labels.sentence(words)) for code, words in labels.SYSTEMS.items()]


class ReviewItem(models.Model):
    """One problem, from one root cause, waiting for a person."""

    class Kind(models.TextChoices):
        MISSING_DATA = "missing_data", labels.ITEM_KINDS["missing_data"]
        CONNECTION = "connection", labels.ITEM_KINDS["connection"]
        UNAVAILABLE = "unavailable", labels.ITEM_KINDS["unavailable"]
        DUPLICATE = "possible_duplicate", labels.ITEM_KINDS["possible_duplicate"]
        DISAGREEMENT = "disagreement", labels.ITEM_KINDS["disagreement"]
        QUOTE_CHANGED = "quote_changed", labels.ITEM_KINDS["quote_changed"]
        PROMISE_DIFFERS = "promise_differs", labels.ITEM_KINDS["promise_differs"]
        FIGURES_DIFFER = "figures_differ", labels.ITEM_KINDS["figures_differ"]
        TRACKING_NOT_KEPT = "tracking_not_kept", labels.ITEM_KINDS["tracking_not_kept"]
        APPROVED_CHANGED = (
            "approved_invoice_changed",
            labels.ITEM_KINDS["approved_invoice_changed"],
        )
        ACTIVE_JOB = "active_job_affected", labels.ITEM_KINDS["active_job_affected"]
        FAILED = "handoff_failed", labels.ITEM_KINDS["handoff_failed"]
        FOUND = "found", labels.ITEM_KINDS["found"]
        CUSTOMER_MERGED = "customer_merged", labels.ITEM_KINDS["customer_merged"]
        CUSTOMER_ARCHIVED = "customer_archived", labels.ITEM_KINDS["customer_archived"]

    class Status(models.TextChoices):
        OPEN = "open", labels.ITEM_STATUSES["open"]
        RESOLVED = "resolved", labels.ITEM_STATUSES["resolved"]
        DISMISSED = "dismissed", labels.ITEM_STATUSES["dismissed"]

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    system = models.CharField(max_length=32, help_text="The system the problem is in.")
    record_type = models.CharField(max_length=32, blank=True)
    record_ref = models.CharField(max_length=128, blank=True, help_text="The id in that system.")
    record_label = models.CharField(max_length=255, blank=True)
    title = models.CharField(max_length=255)
    reason = models.TextField(help_text="What went wrong, in plain words.")
    action = models.TextField(help_text="What a person should do about it.")
    vendor_error = models.TextField(blank=True, help_text="The raw error, kept for detail.")
    # What the item's actions need, e.g. both values of a disagreement.
    details = models.JSONField(default=dict, blank=True)
    # Several failures with one cause (an expired token, a vendor outage, one
    # broken deal) share a root key, so they land on one open item.
    root_key = models.CharField(max_length=255)
    occurrences = models.PositiveIntegerField(default=1)
    first_seen = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(auto_now=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(max_length=32, blank=True)
    resolution_note = models.TextField(blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            models.UniqueConstraint(
                fields=["root_key"],
                condition=Q(status="open"),
                name="one_open_item_per_root_cause",
            )
        ]
        # Each of the queue's filters and sorts reads its page of ids from one of these in
        # order, the id breaking ties; index-only (the age filter's first_seen is included),
        # so page 1,000 skips index entries, not rows. Search uses trigram indexes on
        # PostgreSQL (migration 0008), kept out of the model because SQLite cannot build them.
        indexes = [
            models.Index(
                fields=["status", "-last_seen", "-id"],
                include=["first_seen"],
                name="item_status_seen",
            ),
            models.Index(
                fields=["status", "kind", "-last_seen", "-id"],
                include=["first_seen"],
                name="item_status_kind",
            ),
            models.Index(
                fields=["status", "system", "-last_seen", "-id"],
                include=["first_seen"],
                name="item_status_system",
            ),
            models.Index(
                fields=["status", "assignee", "-last_seen", "-id"],
                include=["first_seen"],
                name="item_status_assignee",
            ),
            models.Index(fields=["status", "first_seen", "id"], name="item_status_first_seen"),
            models.Index(fields=["status", "occurrences", "id"], name="item_status_occurrences"),
            models.Index(
                fields=["-last_seen", "-id"],
                include=["kind", "system", "assignee", "first_seen"],
                name="item_seen",
            ),
            models.Index(fields=["record_ref", "record_type"], name="item_record"),
            models.Index(Upper("record_ref"), name="item_record_upper"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class ReviewLog(models.Model):
    """One thing a person (or the hub) did to an item: who, when, what, and how it went."""

    item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(auto_now_add=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=32)
    note = models.TextField(blank=True)
    outcome = models.TextField(blank=True)
    succeeded = models.BooleanField(default=True)

    class Meta:
        ordering = ["at", "pk"]


class NotificationRule(models.Model):
    """Which new items a person hears about, and how: at once or in a daily digest."""

    class Mode(models.TextChoices):
        IMMEDIATE = "immediate", "As they happen"
        DAILY = "daily", "Once a day, in a digest"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_notifications"
    )
    # Empty means every kind.
    kinds = models.JSONField(default=list, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.IMMEDIATE)
    active = models.BooleanField(default=True)

    def wants(self, kind: str) -> bool:
        return self.active and (not self.kinds or kind in self.kinds)
