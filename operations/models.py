"""The built-in job register: the embedded default operations system."""

from datetime import timedelta
from decimal import Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from integration_hub import labels
from operations import money


class Crew(models.Model):
    """A team that does the work."""

    name = models.CharField(max_length=100, unique=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Customer(models.Model):
    """A customer as operations knows it: who the work is for."""

    name = models.CharField(max_length=255)
    contact_name = models.CharField("contact person", max_length=255, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    # The billing address, in the parts every system keeps.
    street = models.CharField(max_length=255, blank=True)
    city = models.CharField(max_length=100, blank=True)
    region = models.CharField("state", max_length=100, blank=True)
    postcode = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=100, blank=True)
    tax_number = models.CharField(
        max_length=32, blank=True, help_text="ABN, spaced as the system that owns it writes it."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        """The billing address on one line."""
        parts = (self.street, self.city, self.region, self.postcode, self.country)
        return ", ".join(part for part in parts if part)


class Job(models.Model):
    """A piece of work promised to a customer."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", labels.JOB_STATUSES["scheduled"]
        IN_PROGRESS = "in_progress", labels.JOB_STATUSES["in_progress"]
        ON_HOLD = "on_hold", labels.JOB_STATUSES["on_hold"]
        DONE = "done", labels.JOB_STATUSES["done"]
        INVOICED = "invoiced", labels.JOB_STATUSES["invoiced"]
        PAID = "paid", labels.JOB_STATUSES["paid"]
        CANCELLED = "cancelled", labels.JOB_STATUSES["cancelled"]

    class PaymentStatus(models.TextChoices):
        DRAFT = "draft", labels.PAYMENT_STATUSES["draft"]
        SUBMITTED = "submitted", labels.PAYMENT_STATUSES["submitted"]
        AWAITING_PAYMENT = "awaiting_payment", labels.PAYMENT_STATUSES["awaiting_payment"]
        PART_PAID = "part_paid", labels.PAYMENT_STATUSES["part_paid"]
        PAID = "paid", labels.PAYMENT_STATUSES["paid"]
        CREDITED = "credited", labels.PAYMENT_STATUSES["credited"]
        VOIDED = "voided", labels.PAYMENT_STATUSES["voided"]
        DELETED = "deleted", labels.PAYMENT_STATUSES["deleted"]

    number = models.CharField(max_length=32, unique=True, null=True, blank=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="jobs")
    title = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(max_length=3, default="AUD")
    site_address = models.TextField(blank=True)
    site_contact = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True, help_text="What sales noted when the deal was won.")
    site_notes = models.TextField(blank=True, help_text="Operations' notes for the site.")
    scheduled_start = models.DateTimeField(null=True, blank=True, db_index=True)
    scheduled_end = models.DateTimeField(null=True, blank=True)
    crew = models.ForeignKey(
        Crew, null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs"
    )
    # The completion sign-off.
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    completion_note = models.TextField(blank=True)
    # What finance invoiced, written by the hub from Xero; read-only here.
    invoice_number = models.CharField(max_length=64, blank=True)
    # How the line prices read on the invoice: with GST included, or with GST added.
    prices_include_gst = models.BooleanField(default=False)
    invoice_status = models.CharField(max_length=32, blank=True, choices=PaymentStatus.choices)
    amount_invoiced = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # The balance Xero says is still owed (after payments and credit notes).
    amount_due = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Xero's own figures for the draft invoice the hub made, kept beside the hub's.
    xero_subtotal = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    xero_tax = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    xero_total = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Where the job came from (a won deal, an accepted quote): the business
    # key that keeps a second delivery of the same event from making a second job.
    origin_system = models.CharField(max_length=32, blank=True)
    origin_ref = models.CharField(max_length=128, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["origin_system", "origin_ref"],
                condition=~models.Q(origin_ref=""),
                name="one_job_per_origin",
            )
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    ACTIVE = (Status.SCHEDULED, Status.IN_PROGRESS, Status.ON_HOLD)

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def status_label(self) -> str:
        """The status as staff read it: a scheduled job with no booking is not booked yet;
        an invoiced one says how its invoice is paid ('Invoiced · part paid')."""
        if self.status == self.Status.SCHEDULED and self.scheduled_start is None:
            return "Not booked yet"
        label = self.get_status_display()
        if self.status == self.Status.INVOICED and self.invoice_status:
            return f"{label} · {self.get_invoice_status_display().lower()}"
        return label

    @property
    def lines_total(self) -> Decimal:
        """What the lines come to, each rounded to the cent as Xero rounds it: in the terms
        their prices are in (GST included when `prices_include_gst`, else not)."""
        return sum((line.line_total for line in self.lines.all()), Decimal("0.00"))

    @property
    def figures(self) -> money.Figures:
        """Subtotal, GST and total of the lines, each line rounded as Xero rounds it."""
        return money.figures(
            (line.money_line for line in self.lines.all()), inclusive=self.prices_include_gst
        )

    @property
    def xero_figures(self) -> money.Figures | None:
        """Xero's subtotal, tax and total for the draft the hub made (None before it)."""
        if self.xero_total is None:
            return None
        return money.Figures(self.xero_subtotal, self.xero_tax, self.xero_total)


class JobLine(models.Model):
    """One line of what was promised: description, quantity, price, item code, tax."""

    class Tax(models.TextChoices):
        GST = "gst", "GST on income (10%)"
        GST_FREE = "gst_free", "GST-free"
        NONE = "none", "No GST"

    # The rate (%) each treatment charges; the Xero tax type chosen for it must have it.
    RATES = {Tax.GST: Decimal("10"), Tax.GST_FREE: Decimal("0"), Tax.NONE: Decimal("0")}

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="lines")
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    # Up to four decimal places, as Xero takes them (unitdp=4).
    unit_price = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal("0"))
    item_code = models.CharField(max_length=64, blank=True)
    # Off the line's price, as Xero's DiscountRate: the line comes to quantity x price less it.
    discount = models.DecimalField(
        "discount (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    # How the line is taxed on the invoice.
    tax = models.CharField(max_length=16, choices=Tax.choices, default=Tax.GST)
    # What the deal or quote promised, kept when staff change `tax` on the job page (blank
    # while they have not): the deal's copy of the lines is compared with this.
    promised_tax = models.CharField(max_length=16, choices=Tax.choices, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    @property
    def rate(self) -> Decimal:
        """The rate of tax (%) the line's treatment charges."""
        return self.RATES[self.tax]

    @property
    def money_line(self) -> money.Line:
        return money.Line(self.quantity, self.unit_price, self.rate, self.discount)

    @property
    def line_total(self) -> Decimal:
        """The line's total to the cent, as it reads on the invoice."""
        return money.line_amount(self.money_line)

    @property
    def line_tax(self) -> Decimal:
        """The line's GST to the cent, as Xero works it out."""
        return money.line_tax(self.money_line, inclusive=self.job.prices_include_gst)

    @property
    def price_text(self) -> str:
        return money.price_text(self.unit_price)


class JobMaterial(models.Model):
    """Material actually used on the job."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="materials")
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("1"))
    item_code = models.CharField(max_length=64, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)


def evidence_path(evidence: "JobEvidence", filename: str) -> str:
    return f"jobs/{evidence.job.number}/{filename}"


class JobEvidence(models.Model):
    """A photo or document that shows the work was delivered."""

    class Kind(models.TextChoices):
        PHOTO = "photo", "Photo"
        DOCUMENT = "document", "Document"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    content_type = models.CharField(max_length=64)
    size = models.PositiveIntegerField()
    note = models.CharField(max_length=255, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    @property
    def filename(self) -> str:
        """Return the stored file's own name, without its folder."""
        return PurePosixPath(self.file.name).name


class JobEvent(models.Model):
    """An outbox row: a change operations made, to reach the hub's inbox like a webhook.

    Written in the same transaction as the change, so no change is lost even when
    the hub's worker or broker is down.
    """

    type = models.CharField(max_length=32)
    # A job's event, or a customer's (customer.created, customer.changed).
    job = models.ForeignKey(
        Job, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    data = models.JSONField(default=dict)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    forwarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(forwarded_at__isnull=True),
                name="job_event_unforwarded",
            )
        ]


# A background import that has not moved for this long lost its worker (or never had one):
# its page says so and pressing Import again takes it up.
IMPORT_STALE = timedelta(minutes=5)


class JobImport(models.Model):
    """An uploaded spreadsheet, kept between its preview and its confirmation."""

    file = models.FileField(upload_to="imports/")
    filename = models.CharField(max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)

    # A large file is imported by a worker; these say how far it got, for the progress bar.
    class State(models.TextChoices):
        PREVIEWED = "", "Previewed"
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Stopped"

    state = models.CharField(max_length=16, choices=State.choices, default="", blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    progress_at = models.DateTimeField(null=True, blank=True)
    problem = models.TextField(blank=True)

    @property
    def stalled(self) -> bool:
        """Queued or running, and nothing has moved for IMPORT_STALE: its worker is gone."""
        return (
            self.state in (self.State.QUEUED, self.State.RUNNING)
            and self.progress_at is not None
            and self.progress_at < timezone.now() - IMPORT_STALE
        )

    @property
    def in_background(self) -> bool:
        """A worker has it (or had it, and finished): its page is the progress bar."""
        return self.state == self.State.DONE or (
            self.state in (self.State.QUEUED, self.State.RUNNING) and not self.stalled
        )

    @property
    def percent(self) -> int:
        return 100 * self.rows_done // self.rows_total if self.rows_total else 0
