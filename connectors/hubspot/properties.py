"""The custom HubSpot properties the hub writes (and the one it reads), made on demand.

HubSpot has none of these until someone creates them. `properties_ensure` creates the
missing ones in the hub's own property group, leaves the ones that exist, and names
those that exist with another type, which the hub's writes may not fit.
"""

from dataclasses import dataclass, field

from hubspot.crm.properties import OptionInput, PropertyCreate, PropertyGroupCreate

from connectors.hubspot.client import HubSpotClient

GROUP = "integration_hub"
GROUP_LABEL = "Integration hub"
# The values the hub writes into the two choice properties (the register's job statuses,
# and invoice payment statuses from the finance system).
JOB_STATUSES = ("scheduled", "in_progress", "on_hold", "done", "invoiced", "paid", "cancelled")
PAYMENT_STATUSES = (
    "draft",
    "submitted",
    "awaiting_payment",
    "part_paid",
    "paid",
    "credited",
    "voided",
    "deleted",
)


@dataclass(frozen=True)
class CustomProperty:
    """One property the hub needs on a HubSpot object type."""

    object_type: str
    name: str
    label: str
    type: str  # HubSpot's data type: string, number, date, enumeration
    field_type: str  # how HubSpot shows it: text, textarea, number, date, select
    description: str
    options: tuple[str, ...] = ()
    # How HubSpot shows each option (by default the value, capitalised).
    labels: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.object_type}.{self.name}"

    def spec(self) -> PropertyCreate:
        """The property as HubSpot's create call takes it."""
        return PropertyCreate(
            name=self.name,
            label=self.label,
            type=self.type,
            field_type=self.field_type,
            group_name=GROUP,
            description=self.description,
            options=[self.option(value, order) for order, value in enumerate(self.options)],
        )

    def option(self, value: str, order: int) -> OptionInput:
        """One of the property's choices as HubSpot takes it."""
        labels = dict(zip(self.options, self.labels, strict=False))
        label = labels.get(value) or value.replace("_", " ").capitalize()
        return OptionInput(value=value, label=label, hidden=False, display_order=order)


def _deal(
    name: str, label: str, type_: str, field_type: str, description: str, options: tuple = ()
) -> CustomProperty:
    return CustomProperty("deals", name, label, type_, field_type, description, options)


CUSTOM_PROPERTIES = (
    _deal("job_number", "Job number", "string", "text", "The job's number in operations."),
    _deal("job_status", "Job status", "enumeration", "select", "Where the job is.", JOB_STATUSES),
    _deal("job_scheduled_start", "Job scheduled start", "date", "date", "When the job starts."),
    _deal("invoice_number", "Invoice number", "string", "text", "The job's invoice."),
    _deal(
        "payment_status",
        "Payment status",
        "enumeration",
        "select",
        "Whether the invoice is paid.",
        PAYMENT_STATUSES,
    ),
    _deal("amount_paid", "Amount paid", "number", "number", "Paid so far on the invoice."),
    _deal("amount_due", "Amount due", "number", "number", "Still to pay on the invoice."),
    _deal("last_payment_date", "Last payment date", "date", "date", "The last payment's date."),
    # Read, not written: the site address a won deal promises, when it is not the company's.
    _deal("site_address", "Site address", "string", "textarea", "Where the work is done."),
    CustomProperty("companies", "abn", "ABN", "string", "text", "Australian Business Number."),
    # Read, not written: how each line is taxed on the invoice (empty: GST).
    CustomProperty(
        "line_items",
        "tax_treatment",
        "Tax treatment",
        "enumeration",
        "select",
        "How the line is taxed on the invoice: GST, GST-free or no GST.",
        ("gst", "gst_free", "no_gst"),
        ("GST", "GST-free", "No GST"),
    ),
)


@dataclass
class PropertiesReport:
    """What properties_ensure found and did."""

    groups_created: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    present: list[str] = field(default_factory=list)
    # One plain sentence per property that exists with another type.
    mismatched: list[str] = field(default_factory=list)
    # "deals.payment_status: credited" per choice property that lacked some of the hub's values.
    options_added: list[str] = field(default_factory=list)

    def summary(self) -> str:
        said = [
            f"Created {', '.join(self.created)}." if self.created else "Created no property.",
            f"Already there: {', '.join(self.present)}." if self.present else "",
        ]
        if self.options_added:
            said.append(f"Added the choices {'; '.join(self.options_added)}.")
        if self.groups_created:
            said.append(f"Created the property group {GROUP} on {', '.join(self.groups_created)}.")
        return " ".join(part for part in said if part)


def properties_ensure(client: HubSpotClient) -> PropertiesReport:
    """Make sure every custom property the hub uses exists in HubSpot.

    1. Per object type, create the hub's property group when HubSpot has none by its name.
    2. Create each property HubSpot does not have, in that group.
    3. Leave the ones HubSpot has; report those whose type or field type differs.
    4. Add to a choice property the hub's values it lacks (a value added in a later version),
       keeping the choices it has.
    """
    report = PropertiesReport()
    for object_type in dict.fromkeys(p.object_type for p in CUSTOM_PROPERTIES):
        wanted = [p for p in CUSTOM_PROPERTIES if p.object_type == object_type]
        existing = client.properties_read(object_type)
        missing = [p for p in wanted if p.name not in existing]
        if missing and GROUP not in client.property_groups(object_type):
            group = PropertyGroupCreate(name=GROUP, label=GROUP_LABEL, display_order=-1)
            client.property_group_create(object_type, group)
            report.groups_created.append(object_type)
        for prop in wanted:
            if prop.name not in existing:
                client.property_create(object_type, prop.spec())
                report.created.append(prop.key)
                continue
            report.present.append(prop.key)
            found = existing[prop.name]
            if (found.type, found.field_type) != (prop.type, prop.field_type):
                report.mismatched.append(
                    f"HubSpot's {prop.key} is {found.type} ({found.field_type}), but the hub "
                    f"writes {prop.type} ({prop.field_type}) there: change the property's field "
                    "type in HubSpot (Settings → Properties) so the hub's values fit."
                )
            elif missing := _options_missing(client, object_type, prop, found):
                report.options_added.append(f"{prop.key}: {', '.join(missing)}")
    return report


def _options_missing(client: HubSpotClient, object_type: str, prop: CustomProperty, found):
    """Add the hub's values a choice property lacks, after the ones it has; return them."""
    have = [
        OptionInput(value=o.value, label=o.label, hidden=o.hidden, display_order=o.display_order)
        for o in found.options or []
    ]
    missing = [v for v in prop.options if v not in {o.value for o in have}]
    if missing:
        added = [prop.option(value, len(have) + n) for n, value in enumerate(missing)]
        client.property_options_set(object_type, prop.name, have + added)
    return missing
