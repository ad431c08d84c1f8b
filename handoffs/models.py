"""The inbox, the handoff runs and their attempts."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from integration_hub import labels
from review_queue.models import ReviewItem


class WebhookDelivery(models.Model):
    """One request to a webhook endpoint, accepted or refused, kept as it arrived.

    Refused requests are kept in part (handoffs/refusals.py): a bounded body and set of
    headers, for WEBHOOK_REFUSED_KEEP_DAYS, and past WEBHOOK_REFUSALS_PER_MINUTE from one
    address only counted, on one SUPPRESSED row per source, address and minute.
    """

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", labels.DELIVERY_OUTCOMES["accepted"]
        DUPLICATE = "duplicate", labels.DELIVERY_OUTCOMES["duplicate"]
        REFUSED = "refused", labels.DELIVERY_OUTCOMES["refused"]
        MALFORMED = "malformed", labels.DELIVERY_OUTCOMES["malformed"]
        TOO_LARGE = "too_large", labels.DELIVERY_OUTCOMES["too_large"]
        SUPPRESSED = "suppressed", labels.DELIVERY_OUTCOMES["suppressed"]

    source = models.CharField(max_length=32)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    status_code = models.PositiveSmallIntegerField()
    reason = models.TextField(blank=True)
    headers = models.JSONField(default=dict)
    raw_body = models.TextField(blank=True)
    body_size = models.PositiveIntegerField(default=0)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    events_new = models.PositiveIntegerField(default=0)
    events_duplicate = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(auto_now_add=True)
    # On a SUPPRESSED row: the minute it counts, and how many refusals it stands for.
    minute = models.DateTimeField(null=True, blank=True)
    suppressed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-received_at"]
        indexes = [
            models.Index(fields=["source", "-received_at"]),
            models.Index(
                fields=["received_at"],
                condition=~Q(outcome__in=["accepted", "duplicate"]),
                name="webhook_refusals_by_age",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "remote_addr", "minute"],
                condition=Q(outcome="suppressed"),
                name="one_suppressed_row_per_address_minute",
            )
        ]


class InboundEvent(models.Model):
    """One event from a system, stored before we answer, processed after."""

    class State(models.TextChoices):
        PENDING = "pending", labels.EVENT_STATES["pending"]
        PROCESSED = "processed", labels.EVENT_STATES["processed"]
        IGNORED = "ignored", labels.EVENT_STATES["ignored"]

    source = models.CharField(max_length=32)
    delivery_key = models.CharField(max_length=128)
    event_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=128, blank=True)
    payload = models.JSONField()
    delivery = models.ForeignKey(
        WebhookDelivery, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    note = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_key"], name="one_event_per_delivery"
            )
        ]
        indexes = [
            models.Index(
                fields=["received_at"], condition=Q(state="pending"), name="inbound_pending"
            ),
            models.Index(fields=["source", "object_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.event_type} {self.object_id}"


class HandoffRun(models.Model):
    """One handoff for one business key (e.g. deal 123 won → its job), however often triggered."""

    class State(models.TextChoices):
        PENDING = "pending", labels.RUN_STATES["pending"]
        RUNNING = "running", labels.RUN_STATES["running"]
        RETRYING = "retrying", labels.RUN_STATES["retrying"]
        DONE = "done", labels.RUN_STATES["done"]
        SKIPPED = "skipped", labels.RUN_STATES["skipped"]
        NEEDS_REVIEW = "needs_review", labels.RUN_STATES["needs_review"]
        DISMISSED = "dismissed", labels.RUN_STATES["dismissed"]

    handoff = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    queue = models.CharField(max_length=32, default="default")
    event = models.ForeignKey(
        InboundEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    payload = models.JSONField(default=dict)
    # The record the run is about, as the source system names it (system, type, id, label).
    record_system = models.CharField(max_length=32)
    record_type = models.CharField(max_length=32)
    record_ref = models.CharField(max_length=128)
    record_label = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    # Tries that failed and count against HANDOFF_MAX_ATTEMPTS (waiting for a limit does not).
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # The claim of the worker running it: a token, who ("host:pid") and until when. The
    # worker renews it while it works; once it lapses (or its process is gone) any worker
    # may take the run back.
    lease = models.CharField(max_length=32, blank=True)
    lease_holder = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # When this run last asked a vendor to create something whose answer it has not yet
    # recorded. A later attempt that finds it set looks the effect up before creating again.
    effect_sent_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    review_item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["handoff", "key"], name="one_run_per_business_key")
        ]
        indexes = [
            models.Index(
                fields=["state", "next_attempt_at"],
                condition=Q(state__in=["pending", "retrying", "running"]),
                name="handoff_run_unfinished",
            )
        ]

    def __str__(self) -> str:
        return f"{self.handoff} {self.key}"

    @property
    def is_finished(self) -> bool:
        """Whether the run ended (done, nothing to do, or dismissed): it may be replayed."""
        return self.state in (self.State.DONE, self.State.SKIPPED, self.State.DISMISSED)


class HandoffAttempt(models.Model):
    """One try at a run: when, how it ended, and the error if any."""

    class Outcome(models.TextChoices):
        RUNNING = "running", labels.ATTEMPT_OUTCOMES["running"]
        DONE = "done", labels.ATTEMPT_OUTCOMES["done"]
        SKIPPED = "skipped", labels.ATTEMPT_OUTCOMES["skipped"]
        RETRY = "retry", labels.ATTEMPT_OUTCOMES["retry"]
        WAITED = "waited", labels.ATTEMPT_OUTCOMES["waited"]
        LOST = "lost", labels.ATTEMPT_OUTCOMES["lost"]
        FAILED = "failed", labels.ATTEMPT_OUTCOMES["failed"]

    run = models.ForeignKey(HandoffRun, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    detail = models.TextField(blank=True)
    # The vendor calls made: operation, request and response summaries, status, time.
    calls = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["run", "number"]


class WorkerHeartbeat(models.Model):
    """The last time a worker ran the heartbeat task that beat scheduled."""

    name = models.CharField(max_length=64, unique=True)
    beat_at = models.DateTimeField()


class ReconcileRun(models.Model):
    """One check that the systems agree (nightly, or asked for): what it compared and found.

    The counts are what the drift report shows; each difference is a ReconcileFinding.
    """

    class State(models.TextChoices):
        RUNNING = "running", labels.CHECK_STATES["running"]
        DONE = "done", labels.CHECK_STATES["done"]
        FAILED = "failed", labels.CHECK_STATES["failed"]

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    dry_run = models.BooleanField(default=False, help_text="Compared only; changed nothing.")
    since = models.DateTimeField(null=True, blank=True)
    asked_by = models.CharField(max_length=150, blank=True)
    records = models.PositiveIntegerField(default=0, help_text="Linked records compared.")
    fields = models.PositiveIntegerField(default=0, help_text="Copies of fields compared.")
    carried = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    flagged = models.PositiveIntegerField(default=0)
    unlinked = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0, help_text="What events missed, found.")
    retried = models.PositiveIntegerField(default=0, help_text="Left to their own run.")
    problem = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Check of {self.started_at:%Y-%m-%d %H:%M} ({self.get_state_display()})"

    @property
    def differences(self) -> int:
        return self.carried + self.restored + self.flagged + self.missed


class ReconcileFinding(models.Model):
    """One difference a check found, and what became of it."""

    class Kind(models.TextChoices):
        CARRIED = "carried", labels.FINDING_KINDS["carried"]
        RESTORED = "restored", labels.FINDING_KINDS["restored"]
        FLAGGED = "flagged", labels.FINDING_KINDS["flagged"]
        MISSING = "missing", labels.FINDING_KINDS["missing"]
        DEAL_LOST = "deal_lost", labels.FINDING_KINDS["deal_lost"]
        NOT_INVOICED = "not_invoiced", labels.FINDING_KINDS["not_invoiced"]
        NO_JOB = "invoice_without_job", labels.FINDING_KINDS["invoice_without_job"]
        LINKED = "linked", labels.FINDING_KINDS["linked"]
        UNLINKED = "unlinked", labels.FINDING_KINDS["unlinked"]
        RETRIED = "retried", labels.FINDING_KINDS["retried"]

    run = models.ForeignKey(ReconcileRun, on_delete=models.CASCADE, related_name="findings")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    record_type = models.CharField(max_length=16, blank=True)
    record_label = models.CharField(max_length=255, blank=True)
    record = models.ForeignKey(
        "ownership.Record", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    system = models.CharField(max_length=32, blank=True)
    field = models.CharField(max_length=64, blank=True)
    detail = models.CharField(max_length=255, blank=True)
    review_item = models.ForeignKey(
        ReviewItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["run", "pk"]
