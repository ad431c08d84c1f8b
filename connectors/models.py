"""The hub's connections to other systems, with their tokens encrypted at rest."""

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integration_hub import labels
from integration_hub.crypto import EncryptedTextField


class XeroConnection(models.Model):
    """One connected Xero organisation (tenant) and the tokens that reach it."""

    class Kind(models.TextChoices):
        OAUTH = "oauth", "OAuth 2.0 (a person connected it)"
        CUSTOM = "custom", "Custom Connection (client credentials)"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECT = "reconnect_needed", "Reconnect needed"
        DISCONNECTED = "disconnected", "Disconnected"

    tenant_id = models.CharField(max_length=64, unique=True)
    tenant_name = models.CharField(max_length=255)
    # The id of this tenant's entry in Xero's /connections: what disconnecting deletes.
    connection_id = models.CharField(max_length=64, blank=True)
    # Tenants connected by one consent share one token pair: refreshed once for all of them.
    grant = models.CharField(max_length=64, blank=True, db_index=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.OAUTH)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    scopes = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Rate-limit headroom, from the X-MinLimit-Remaining and X-DayLimit-Remaining of the last call.
    minute_remaining = models.IntegerField(null=True, blank=True)
    day_remaining = models.IntegerField(null=True, blank=True)
    # How far polling has read each resource: the highest UpdatedDateUTC seen (Xero's clock).
    watermarks = models.JSONField(default=dict, blank=True)

    def __str__(self) -> str:
        return f"{self.tenant_name} ({self.get_status_display()})"


class HubSpotConnection(models.Model):
    """The one HubSpot account the hub works in, and the token that reaches it.

    Without this row the hub uses settings.HUBSPOT_ACCESS_TOKEN (tests, the demo).
    """

    class Kind(models.TextChoices):
        PRIVATE_APP = "private_app", "Private app token"
        OAUTH = "oauth", "OAuth 2.0 (the hub installed as an app)"

    class Status(models.TextChoices):
        CONNECTED = "connected", "Connected"
        RECONNECT = "reconnect_needed", "Reconnect needed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CONNECTED)
    # HubSpot's account id (hub id, portal id).
    hub_id = models.BigIntegerField(null=True, blank=True)
    scopes = models.TextField(blank=True)
    access_token = EncryptedTextField(blank=True)
    refresh_token = EncryptedTextField(blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(default=timezone.now)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(pk=1), name="one_hubspot_account")]

    def __str__(self) -> str:
        return f"HubSpot {self.hub_id or ''} ({self.get_status_display()})"

    @classmethod
    def current(cls) -> "HubSpotConnection | None":
        """Return the stored connection, or None when the hub uses the setting's token."""
        return cls.objects.filter(pk=1).first()


PROPERTY = RegexValidator(
    r"^[a-z0-9_]{1,100}$", "Use HubSpot's internal name: lower-case letters, digits and _."
)
CODE = RegexValidator(r"^[A-Za-z0-9_.-]{1,20}$", "Use Xero's code: letters, digits, - _ or . only.")


class InvoiceSettings(models.Model):
    """How the hub writes a job's lines on a Xero invoice; admins edit it on the Xero page."""

    sales_account = models.CharField(
        max_length=20, validators=[CODE], help_text="Revenue account code for every line."
    )
    tax_gst = models.CharField(
        "Tax type for lines with GST", max_length=20, default="OUTPUT", validators=[CODE]
    )
    tax_gst_free = models.CharField(
        "Tax type for GST-free lines", max_length=20, default="EXEMPTOUTPUT", validators=[CODE]
    )
    tax_none = models.CharField(
        "Tax type for lines with no GST", max_length=20, default="BASEXCLUDED", validators=[CODE]
    )
    default_due_days = models.PositiveIntegerField(
        "Days to pay when the contact has no terms",
        default=14,
        validators=[MinValueValidator(0)],
    )
    # The Xero organisation (tenant id) that invoices a job no routing rule sends elsewhere;
    # blank: the only one connected; with several, none is guessed (xero/organisations.py).
    default_organisation = models.CharField("Default Xero organisation", max_length=64, blank=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return "Invoice settings"

    @classmethod
    def current(cls) -> "InvoiceSettings":
        """Return the one row of settings, made from the defaults the first time."""
        found, _ = cls.objects.get_or_create(
            pk=1, defaults={"sales_account": settings.XERO_SALES_ACCOUNT}
        )
        return found

    def tax_type(self, tax: str) -> str:
        """Return the Xero tax type for a job line's tax treatment (gst, gst_free, none)."""
        return {"gst": self.tax_gst, "gst_free": self.tax_gst_free, "none": self.tax_none}[tax]

    def setting_of(self, tax: str) -> str:
        """The name of the setting that holds a treatment's tax type (for the fix)."""
        return self._meta.get_field(f"tax_{tax}").verbose_name

    def treatments(self) -> dict[str, str]:
        """Which treatment each chosen tax type stands for (GST first, then GST-free, when
        two treatments share a tax type)."""
        chosen = (("none", self.tax_none), ("gst_free", self.tax_gst_free), ("gst", self.tax_gst))
        return {tax_type: tax for tax, tax_type in chosen}


class TrackingMapping(models.Model):
    """A job field whose value names the option each invoice line carries in one of Xero's
    tracking categories (Region: the job site's state); admins edit it on the Xero page."""

    class Source(models.TextChoices):
        CREW = "crew", labels.TRACKING_SOURCES["crew"]
        REGION = "region", labels.TRACKING_SOURCES["region"]
        HUBSPOT = "hubspot", labels.TRACKING_SOURCES["hubspot"]

    category = models.CharField(
        "Xero tracking category",
        max_length=100,
        unique=True,
        help_text="Its name as Xero's Tracking categories settings show it.",
    )
    source = models.CharField("Job field", max_length=16, choices=Source.choices)
    hubspot_property = models.CharField(
        "HubSpot deal property",
        max_length=100,
        blank=True,
        validators=[PROPERTY],
        help_text="Its internal name, for a HubSpot deal property (e.g. business_unit).",
    )
    fallback = models.CharField(
        "Option when the job has none",
        max_length=100,
        blank=True,
        help_text="Left empty, a job with no value waits in the review queue.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.category} ← {self.field_label}"

    @property
    def field_label(self) -> str:
        """The job field, as staff say it ("the HubSpot deal property business_unit")."""
        if self.source == self.Source.HUBSPOT:
            return f"HubSpot deal property {self.hubspot_property}"
        return self.get_source_display()
