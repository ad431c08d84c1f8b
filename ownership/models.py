"""Canonical records and their ids in each system."""

from django.db import models
from simple_history.models import HistoricalRecords

from ownership.catalogue import EDITORS, ON_DISAGREEMENT, SYSTEMS


class Record(models.Model):
    """One business thing (a customer, a deal, a job) as the hub knows it."""

    class Type(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        CONTACT = "contact", "Contact person"
        DEAL = "deal", "Deal / quote"
        JOB = "job", "Job"
        INVOICE = "invoice", "Invoice"
        PAYMENT = "payment", "Payment summary"

    type = models.CharField(max_length=16, choices=Type.choices)
    label = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.label}".strip()


class Link(models.Model):
    """The id a record has in one system."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="links")
    # Repeated from the record so the database can enforce one record per id.
    record_type = models.CharField(max_length=16, choices=Record.Type.choices)
    system = models.CharField(max_length=32)
    external_id = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "system"], name="one_link_per_system"),
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
    owner = models.CharField(max_length=16, choices=SYSTEMS.items())
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
