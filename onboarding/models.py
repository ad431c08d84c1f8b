"""The first day: the runs of the first match of the customers every system already has
(its proposals are ownership.models.Proposal), and the setup steps a person marks done."""

from django.conf import settings
from django.db import models

from integration_hub import labels


class FirstMatch(models.Model):
    """One run of the first match (a second run continues where the last one stopped)."""

    class State(models.TextChoices):
        RUNNING = "running", labels.CHECK_STATES["running"]
        DONE = "done", labels.CHECK_STATES["done"]
        FAILED = "failed", labels.CHECK_STATES["failed"]

    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    # Where it is: "reading", "matching", "importing", "done"; and what it has done so far.
    step = models.CharField(max_length=32, default="reading")
    read = models.PositiveIntegerField(default=0)
    # Customers to go through, one per pair of systems, and how many have been.
    to_match = models.PositiveIntegerField(default=0)
    looked_at = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    proposed = models.PositiveIntegerField(default=0)
    alone = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    # What the import of work in flight found: {"deals": n, "jobs": n, "invoices": n, ...}.
    in_flight = models.JSONField(default=dict, blank=True)
    # The pairs of systems matched already ("hubspot>operations"): a rerun skips them.
    pairs_done = models.JSONField(default=list, blank=True)
    problem = models.TextField(blank=True)
    asked_by = models.CharField(max_length=150, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    heartbeat_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"First match of {self.started_at:%d %b %Y %H:%M} ({self.get_state_display()})"

    @property
    def percent(self) -> int:
        """How far it has got, for the progress bar: reading, matching, then importing."""
        if self.state == self.State.DONE:
            return 100
        if self.step == "importing":
            return 90
        if self.step == "matching" and self.to_match:
            return 10 + 80 * min(self.looked_at, self.to_match) // self.to_match
        return 5


class SetupMark(models.Model):
    """A setup step done by a person or the hub: the rules reviewed, the properties made."""

    step = models.CharField(max_length=32, unique=True)
    # False: done, but with something a person must fix (a property of another type).
    ok = models.BooleanField(default=True)
    note = models.TextField(blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.step} ({self.at:%d %b %Y})"
