"""Canonical records and their ids in each system."""

from django.db import models


class Record(models.Model):
    """One business thing (a customer, a deal, a job) as the hub knows it."""

    class Type(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        CONTACT = "contact", "Contact person"
        DEAL = "deal", "Deal / quote"
        JOB = "job", "Job"
        INVOICE = "invoice", "Invoice"

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
