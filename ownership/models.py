"""Canonical records and their ids in each system."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from integration_hub import labels
from ownership.catalogue import EDITORS, ON_DISAGREEMENT


class Record(models.Model):
    """One business thing (a customer, a deal, a job) as the hub knows it."""

    class Type(models.TextChoices):
        CUSTOMER = "customer", labels.sentence(labels.RECORD_TYPES["customer"])
        DEAL = "deal", labels.sentence(labels.RECORD_TYPES["deal"])
        JOB = "job", labels.sentence(labels.RECORD_TYPES["job"])
        INVOICE = "invoice", labels.sentence(labels.RECORD_TYPES["invoice"])

    type = models.CharField(max_length=16, choices=Type.choices)
    label = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # The engine run bringing the record in line now (reads, then writes, one run at a
    # time), and until when its claim holds if that run's worker dies.
    claim = models.CharField(max_length=32, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.label}".strip()


class Link(models.Model):
    """The id a record has in one system."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="links")
    # Repeated from the record so the database can enforce one record per id.
    record_type = models.CharField(max_length=16, choices=Record.Type.choices)
    system = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128)
    # The organisation (Xero tenant id) holding the id, in a system with several; "" in a
    # system with one account. A customer has a contact in each organisation it is invoiced
    # in, each its own link; every read and write of the id goes to this organisation.
    organisation = models.CharField(max_length=64, blank=True, default="")
    # Why the hub (or a person) says the two are one: "same ABN", "made for job J-1001".
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "system", "organisation"], name="one_link_per_organisation"
            ),
            models.UniqueConstraint(
                fields=["record_type", "system", "external_id"], name="one_record_per_external_id"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.external_id}"


class FieldRule(models.Model):
    """Who owns one shared field, who carries a copy (and under what name), who may edit it,
    and what happens when a system that does not own it disagrees."""

    record_type = models.CharField(max_length=16, choices=Record.Type.choices)
    field = models.CharField(max_length=64)
    owner = models.CharField(max_length=16)
    # {system: the field's name in that system}
    carriers = models.JSONField(default=dict, blank=True)
    editable_by = models.CharField(max_length=16, choices=EDITORS.items(), default="admin")
    on_disagreement = models.CharField(
        max_length=16, choices=ON_DISAGREEMENT.items(), default="flag"
    )
    note = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["record_type", "field"]
        constraints = [
            models.UniqueConstraint(fields=["record_type", "field"], name="one_rule_per_field")
        ]

    def __str__(self) -> str:
        return f"{self.record_type}.{self.field}"


class AgreedValue(models.Model):
    """The value every system last held for a record's field, the last time they agreed.

    It tells the engine who changed what since: a copy still equal to it was not edited
    (the owner moved on, so the copy follows); a copy that differs from both was edited
    where it is not owned (the rule decides: restore, flag or ignore).
    """

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="agreed")
    field = models.CharField(max_length=64)
    value = models.JSONField(null=True)
    agreed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "field"], name="one_agreed_value_per_field")
        ]


class FieldChoice(models.Model):
    """A person's decision on a disagreement: which system's value is right.

    The engine applies it on its next run for the record (writing the chosen value where
    it differs, into the owner too) and then marks it applied.
    """

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="choices")
    field = models.CharField(max_length=64)
    # The system whose value is right, and that value as it was chosen.
    system = models.CharField(max_length=32)
    value = models.JSONField(null=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["chosen_at", "pk"]


class Distinct(models.Model):
    """A person said this record is not that customer in another system (a possible
    duplicate they answered "different"): matching never proposes it again."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="distinct_from")
    system = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "system", "external_id"], name="one_distinct_per_pair"
            )
        ]


class Proposal(models.Model):
    """The first match's "may be the same customer" (ownership/bulk_matching.py): staff link
    it, say it is new there (never proposed again), or skip it for now, many at once
    (onboarding/proposals.py). The nightly check leaves an open one to staff."""

    class State(models.TextChoices):
        OPEN = "open", labels.PROPOSAL_STATES["open"]
        LINKED = "linked", labels.PROPOSAL_STATES["linked"]
        NEW = "new", labels.PROPOSAL_STATES["new"]
        SKIPPED = "skipped", labels.PROPOSAL_STATES["skipped"]

    # The record the customer has now (in its own system only, or linked elsewhere too).
    record = models.ForeignKey(Record, null=True, on_delete=models.SET_NULL, related_name="+")
    system = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128)
    name = models.CharField(max_length=255)
    # The customer as its system knows it (CustomerDetails as a dict).
    details = models.JSONField(default=dict)
    target = models.CharField(max_length=32)
    # [{"id": ..., "name": ..., "why": "a similar name"}], the likeliest first.
    candidates = models.JSONField(default=list)
    why = models.CharField(max_length=255, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    outcome = models.CharField(max_length=255, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "external_id", "target"], name="one_proposal_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.system} → {self.target})"


class InvoiceRoute(models.Model):
    """A rule sending the invoices of one CRM pipeline's deals, or of one customer, to a
    finance organisation other than the default (ownership/organisations.py applies it)."""

    class Kind(models.TextChoices):
        PIPELINE = "pipeline", "Deals in a pipeline"
        CUSTOMER = "customer", "One customer"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The CRM pipeline's id, and its name when the rule was made (for the page).
    pipeline = models.CharField(max_length=64, blank=True)
    pipeline_name = models.CharField(max_length=255, blank=True)
    customer = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.CASCADE, related_name="invoice_routes"
    )
    # The organisation (Xero tenant id) that invoices them, and its name when chosen.
    organisation = models.CharField(max_length=64)
    organisation_name = models.CharField(max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline"],
                condition=models.Q(kind="pipeline"),
                name="one_route_per_pipeline",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=models.Q(kind="customer"),
                name="one_route_per_customer",
            ),
        ]

    def __str__(self) -> str:
        what = self.pipeline_name if self.kind == self.Kind.PIPELINE else str(self.customer)
        return f"{what} → {self.organisation_name}"
