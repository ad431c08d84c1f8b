"""The operations connector for the built-in job register.

A business with an external job tool (ServiceM8, Tradify, simPRO, Jobber) gets a
sibling package with the same methods over that tool's API; the hub above connectors/
only sees `OperationsConnector` (connectors/base.py).
"""

from datetime import datetime
from decimal import Decimal

from django.db.models import Case, Q, When
from django.utils import timezone

from connectors.base import (
    Address,
    BusinessEvent,
    CustomerDetails,
    CustomerMoved,
    JobFacts,
    JobLineFacts,
    JobPromise,
    JobRef,
    Notice,
    PromisedLine,
    abn_forms,
)
from connectors.errors import ConnectorError, Invalid, NotFound
from connectors.operations.mapping import business_event
from integration_hub import labels
from operations import services
from operations.addresses import address_parts
from operations.models import Customer, Job
from operations.money import Figures, unit_price
from operations.transitions import TransitionRefused

SYSTEM = "operations"
DONE = "then dismiss this item saying what you did."
# What a changed customer detail means for the customer's active jobs, and what to do: each
# field its own advice (a new name moves nothing; a new address may move the work).
ACTIVE_JOB_ADVICE = {
    "billing_name": "A new name only: the work and its site stay as they are, so nothing "
    "moves. Where the job's paperwork or the site contact names the business, use the new "
    f"name; {DONE}",
    "billing_address": "The billing address changed; the work is done at each job's site, "
    "which did not change.",
    "tax_number": "Nothing changes on site. A new ABN can mean a new business behind the "
    "same name: check with the customer that the work and its price still stand and whom "
    f"the job's invoice should go to; {DONE}",
    "contact_name": "The customer has a new contact person. If the site contact on a job is "
    "the old one, update it on the job page so the crew asks for the right person; "
    f"{DONE}",
    "email": "Nothing moves on site. If anyone on the jobs writes to the customer (booking "
    f"confirmations, the sign-off), use the new address; {DONE}",
    "phone": "If the crew should call the new number, update the site contact on each job "
    f"page; {DONE}",
}
CUSTOMER_FIELDS = {
    "billing_name": "name",
    "billing_address": "address",
    "tax_number": "tax_number",
    "contact_name": "contact_name",
    "email": "email",
    "phone": "phone",
}


def _details(customer: Customer) -> CustomerDetails:
    return CustomerDetails(
        system=SYSTEM,
        external_id=str(customer.pk),
        name=customer.name,
        email=customer.email,
        phone=customer.phone,
        address=Address(
            customer.street, customer.city, customer.region, customer.postcode, customer.country
        ),
        tax_number=customer.tax_number,
        contact_name=customer.contact_name,
    )


def _address_fields(address: Address | None) -> dict[str, str]:
    address = address or Address()
    return {
        "street": address.street,
        "city": address.city,
        "region": address.region,
        "postcode": address.postcode,
        "country": address.country,
    }


def _said(value) -> str:
    """A customer detail as one line of text (an address on one line)."""
    return value.line() if isinstance(value, Address) else str(value or "")


def _address_advice(jobs: list[Job], was: str) -> str:
    """A new billing address moves the work only where the job's site was the old address."""
    at_old = [job.number for job in jobs if was and _same_place(job.site_address, was)]
    if not at_old:
        return (
            f"{ACTIVE_JOB_ADVICE['billing_address']} No active job is at the old address, so "
            f"the work stays where it is: nothing to move; {DONE}"
        )
    return (
        f"Job {', '.join(at_old)} is at the old address, so the site may have moved: ask the "
        "customer whether the work moves to the new address, and if it does, update the site "
        f"on the job page; {DONE}"
    )


def _same_place(one: str, other: str) -> bool:
    """Whether two addresses on one line are the same place: the same street, whatever the
    case, spacing and the rest of the line."""

    def street(text: str) -> list[str]:
        return text.partition(",")[0].lower().split()

    return bool(street(one)) and street(one) == street(other)


def _job(number: str) -> Job:
    job = Job.objects.select_related("customer", "crew").filter(number=number).first()
    if job is None:
        raise NotFound(f"The job register has no job {number}.", system=SYSTEM)
    return job


def _lines(job: Job) -> tuple[PromisedLine, ...]:
    """The job's lines as the deal promised them (a tax staff changed since is the job's)."""
    return tuple(
        PromisedLine(
            line.description,
            line.quantity,
            line.unit_price,
            line.item_code,
            line.promised_tax or line.tax,
            line.discount,
        )
        for line in job.lines.order_by("position", "pk")
    )


def _line_fields(line: PromisedLine) -> dict:
    return {
        "description": line.description,
        "quantity": line.quantity,
        "unit_price": unit_price(line.unit_price),
        "item_code": line.item_code,
        "tax": line.tax,
        "discount": line.discount,
    }


class JobRegister:
    """The built-in register, behind the same interface as an external job tool."""

    system = SYSTEM
    label = labels.SYSTEMS[SYSTEM]
    fields = {
        **{("customer", name): model for name, model in CUSTOMER_FIELDS.items()},
        ("deal", "amount"): "amount",
        ("deal", "line_items"): "lines",
        ("job", "number"): "number",
        ("job", "status"): "status",
        ("job", "schedule"): "scheduled_start",
        ("job", "site_address"): "site_address",
        ("job", "site_notes"): "site_notes",
        ("job", "delivery_evidence"): "evidence",
        ("invoice", "number"): "invoice_number",
        ("invoice", "status"): "invoice_status",
        ("invoice", "total"): "amount_invoiced",
        ("invoice", "amount_paid"): "amount_paid",
        ("invoice", "amount_due"): "amount_due",
    }
    writable = frozenset(
        {("customer", name) for name in CUSTOMER_FIELDS}
        | {("deal", "amount"), ("deal", "line_items"), ("job", "status")}
        | {("job", "site_address"), ("job", "site_notes")}
        | {("invoice", name) for name in ("number", "status", "total", "amount_paid", "amount_due")}
    )
    # Writing an invoice's fields moves its job's status (done → invoiced → paid, and back):
    # the engine brings the job in line in the same run (ownership/engine.py, _followers).
    moves = {"invoice": "job"}

    # Shared fields ---------------------------------------------------------------------

    def values_read(self, record_type: str, ids: list[str]) -> dict[str, dict]:
        """Return each record's current values of the shared fields the register holds."""
        if record_type == "customer":
            customers = Customer.objects.filter(pk__in=[i for i in ids if i.isdigit()])
            return {str(c.pk): _details(c).shared_values() for c in customers}
        jobs = Job.objects.filter(number__in=ids).prefetch_related("lines", "evidence")
        read = {"deal": self._deal_values, "job": self._job_values, "invoice": self._invoice_values}
        return {job.number: read[record_type](job) for job in jobs}

    def _deal_values(self, job: Job) -> dict:
        return {"amount": job.amount, "line_items": _lines(job)}

    def _job_values(self, job: Job) -> dict:
        # The day the booking falls on where the business is, not in UTC.
        start = timezone.localdate(job.scheduled_start) if job.scheduled_start else None
        evidence = ", ".join(e.filename for e in job.evidence.all())
        return {
            "number": job.number,
            "status": job.status,
            "schedule": start,
            "site_address": job.site_address,
            "site_notes": job.site_notes,
            "delivery_evidence": evidence,
        }

    def _invoice_values(self, job: Job) -> dict:
        return {
            "number": job.invoice_number,
            "status": job.invoice_status,
            "total": job.amount_invoiced,
            "amount_paid": job.amount_paid,
            "amount_due": job.amount_due,
        }

    def values_write(
        self, record_type: str, changes: dict[str, dict]
    ) -> dict[str, list[Notice] | ConnectorError]:
        """Write shared fields through the register's services (each keeps its history),
        record by record: one refused leaves the others written."""
        if record_type == "customer":
            return self._customers_write(changes)
        answers: dict[str, list[Notice] | ConnectorError] = {}
        for external_id, values in changes.items():
            try:
                answers[external_id] = self._record_write(record_type, external_id, values)
            except ConnectorError as error:
                answers[external_id] = error
        return answers

    def _record_write(self, record_type: str, external_id: str, values: dict) -> list[Notice]:
        job = _job(external_id)
        if record_type == "deal":
            # The amount alone leaves the lines (and their tax) as they are.
            lines = values.get("line_items")
            services.job_promise_update(
                job=job,
                amount=values.get("amount", job.amount),
                lines=None if lines is None else [_line_fields(x) for x in lines],
            )
        elif record_type == "job":
            self._job_write(job, values)
        elif record_type == "invoice":
            changes = {self.fields[("invoice", k)]: v for k, v in values.items()}
            services.job_invoice_update(job=job, changes=changes)
        return []

    def _job_write(self, job: Job, values: dict) -> None:
        if "status" in values:
            try:
                services.job_transition(job=job, to=str(values["status"]))
            except TransitionRefused as refused:
                raise Invalid(
                    f"Job {job.number} cannot become "
                    f"{labels.label('job_status', str(values['status'])).lower()}: {refused}",
                    system=SYSTEM,
                    fix="Move the job in the register yourself, or keep the register's status.",
                ) from refused
        site = {k: v for k, v in values.items() if k in ("site_address", "site_notes")}
        if site:
            services.job_site_update(
                job=job,
                site_address=site.get("site_address", job.site_address),
                site_contact=job.site_contact,
                site_notes=site.get("site_notes", job.site_notes),
            )

    def _customers_write(
        self, changes: dict[str, dict]
    ) -> dict[str, list[Notice] | ConnectorError]:
        """Change many customers' details in a few statements; notices for active jobs."""
        fields: dict[int, dict[str, str]] = {}
        for external_id, values in changes.items():
            fields[int(external_id)] = {}
            for name, value in values.items():
                if name == "billing_address":
                    fields[int(external_id)] |= _address_fields(value)
                else:
                    fields[int(external_id)][CUSTOMER_FIELDS[name]] = str(value or "")
        # As they were before the change: a notice names the customer as staff knew it.
        customers = Customer.objects.in_bulk(
            [int(i) for i, values in changes.items() if set(values) & set(ACTIVE_JOB_ADVICE)]
        )
        done = services.customers_fields_set(changes=fields)
        answers: dict[str, list[Notice] | ConnectorError] = {}
        for external_id, values in changes.items():
            if int(external_id) not in done:
                answers[external_id] = NotFound(
                    f"The job register has no customer {external_id}.", system=SYSTEM
                )
                continue
            customer = customers.get(int(external_id))
            before = _details(customer) if customer is not None else None
            answers[external_id] = [
                notice
                for name in values
                if customer is not None
                and name in ACTIVE_JOB_ADVICE
                and (notice := self._active_jobs(customer, name, values, before))
            ]
        return answers

    def _active_jobs(
        self, customer: Customer, name: str, values: dict, before: CustomerDetails
    ) -> Notice | None:
        """The notice a changed detail gives the customer's active jobs, if it has any: what
        changed, from what, and the advice that fits that field."""
        jobs = services.jobs_active(customer=customer)
        if not jobs:
            return None
        value, was = _said(values[name]), _said(before.shared_values().get(name))
        label = labels.field_label("customer", name)
        listed = "; ".join(
            f"job {job.number} is {job.get_status_display().lower()} at "
            f"{job.site_address or 'no site'}"
            for job in jobs
        )
        from_was = f" (it was {was!r})" if was else ""
        title = f"Customer's {label} changed while a job is active"
        if name == "billing_name":
            title = "Customer renamed while a job is active"
        return Notice(
            kind="active_job_affected",
            title=title,
            reason=f"{before.name}'s {label} is now {value!r}{from_was} while work is active: "
            f"{listed}.",
            fix=_address_advice(jobs, was)
            if name == "billing_address"
            else ACTIVE_JOB_ADVICE[name],
            root=f"active-job:customer:{customer.pk}:{name}",
            details={
                "field": name,
                "value": value,
                "was": was,
                "jobs": [job.number for job in jobs],
            },
        )

    def business_event(self, payload: dict) -> BusinessEvent | None:
        """An outbox event in the hub's words (the register already speaks them)."""
        return business_event(payload)

    def write_held(self, record_type: str, external_id: str, values: dict) -> Notice | None:
        """A changed promise is not written on a job whose work started: a person decides."""
        if record_type != "deal":
            return None
        job = _job(external_id)
        if job.status == Job.Status.SCHEDULED:
            return None
        if set(values) == {"amount"} and Decimal(values["amount"]) == job.lines_total:
            return None  # the promise corrected to what the lines say: the work is the same
        before = [line.text() for line in _lines(job)]
        after = [line.text() for line in values.get("line_items", _lines(job))]
        amount_before, amount_after = job.amount, values.get("amount", job.amount)
        return Notice(
            kind="quote_changed",
            title="Quote changed after work started",
            reason=f"The deal changed after work started on job {job.number} "
            f"({job.get_status_display().lower()}): amount {amount_before:.2f} → "
            f"{Decimal(amount_after):.2f}. The job was not changed.",
            fix="Check with the customer and the crew. 'Apply to the job' replaces the job's "
            "promised amount and lines with the deal's; dismiss to keep the job as it is.",
            root=f"quote-changed:job:{job.number}",
            details={
                "field": "line_items" if "line_items" in values else "amount",
                "job": job.number,
                "deal": job.origin_ref,
                "before": [f"Amount {amount_before:.2f}", *before],
                "after": [f"Amount {Decimal(amount_after):.2f}", *after],
            },
        )

    # Customers --------------------------------------------------------------------------

    def customer_read(self, external_id: str) -> CustomerDetails:
        """Return what the register knows of one customer."""
        customer = Customer.objects.filter(pk=external_id).first()
        if customer is None:
            raise NotFound(f"The job register has no customer {external_id}.", system=SYSTEM)
        return _details(customer)

    def customer_candidates(self, details: CustomerDetails) -> list[CustomerDetails]:
        """Return customers with the same ABN or email, or a name sharing a word with it."""
        query = Q(tax_number__in=abn_forms(details.tax_number))
        if details.email:
            query |= Q(email__iexact=details.email)
        words = [w for w in details.name.replace(",", " ").split() if len(w) > 2][:3]
        for word in words:
            query |= Q(name__icontains=word)
        return [_details(c) for c in Customer.objects.filter(query)[:50]]

    def customers_changed(self, since: datetime | None) -> list[CustomerDetails]:
        """Return the customers changed after `since` (all of them without it)."""
        customers = (
            Customer.objects.all()
            if since is None
            else Customer.objects.filter(updated_at__gt=since)
        )
        return [_details(c) for c in customers.order_by("pk")]

    def customers_moved(
        self, ids: list[str], *, unless_read_lately: bool = False
    ) -> dict[str, CustomerMoved]:
        """The register merges no customers away and archives none: nothing moves."""
        return {}

    def customer_create(self, *, details: CustomerDetails) -> str:
        """Create the customer in the register and return its id."""
        customer = services.customer_create(
            name=details.name,
            contact_name=details.contact_name,
            email=details.email,
            phone=details.phone,
            tax_number=details.tax_number,
            **_address_fields(details.address),
        )
        return str(customer.pk)

    def customer_merge(self, *, customer_id: str, details: CustomerDetails) -> None:
        """Fill the customer's empty details from another system's record of them."""
        customer = Customer.objects.get(pk=customer_id)
        offered = {
            "contact_name": details.contact_name,
            "email": details.email,
            "phone": details.phone,
            "tax_number": details.tax_number,
        }
        if not customer.address:
            offered |= _address_fields(details.address)
        changes = {k: v for k, v in offered.items() if v and not getattr(customer, k)}
        services.customer_fields_set(customer=customer, changes=changes)

    # Jobs -------------------------------------------------------------------------------

    def job_create(self, *, promise: JobPromise, customer_id: str) -> JobRef:
        """Create the job promised, or return the one already made for the same origin."""
        job, created = services.job_create(
            customer=Customer.objects.get(pk=customer_id),
            title=promise.title,
            origin_system=promise.origin_system,
            origin_ref=promise.origin_ref,
            amount=promise.amount,
            currency=promise.currency,
            site_address=promise.site_address,
            site_contact=promise.site_contact,
            notes=promise.notes,
            prices_include_gst=promise.prices_include_gst,
            lines=[_line_fields(line) for line in promise.lines],
        )
        return JobRef(number=job.number or "", created=created)

    def job_read(self, number: str) -> JobFacts:
        """Return a job as the flows need it."""
        job = _job(number)
        return JobFacts(
            number=job.number or "",
            title=job.title,
            status=job.status,
            customer_id=str(job.customer_id),
            customer=_details(job.customer),
            origin_system=job.origin_system,
            origin_ref=job.origin_ref,
            lines=tuple(
                JobLineFacts(
                    line.description,
                    line.quantity,
                    line.unit_price,
                    line.item_code,
                    line.tax,
                    line.rate,
                    line.discount,
                )
                for line in job.lines.order_by("position", "pk")
            ),
            prices_include_gst=job.prices_include_gst,
            invoice_number=job.invoice_number,
            amount=job.amount,
            lines_total=job.lines_total,
            figures=job.figures,
            crew=job.crew.name if job.crew else "",
            site_region=address_parts(job.site_address)["region"],
            invoice_status=job.invoice_status,
            currency=job.currency,
        )

    def job_invoice_figures(self, number: str, figures: Figures) -> None:
        """Keep the finance system's figures for the job's draft beside the hub's."""
        services.job_xero_figures_set(job=_job(number), figures=figures)

    def job_for_origin(self, system: str, ref: str) -> str | None:
        """Return the number of the job made for this deal or quote, if any."""
        return (
            Job.objects.filter(origin_system=system, origin_ref=ref)
            .values_list("number", flat=True)
            .first()
        )

    def jobs_invoiced_next(self, limit: int) -> dict[str, str]:
        """Customer id → the number of its job invoiced next, for up to `limit` customers:
        those of the jobs finished and not invoiced yet, then those of the jobs under way (a
        month end finishes them next, at whatever pace its people mark them done)."""
        done = Q(status=Job.Status.DONE, invoice_number="")
        jobs = Job.objects.filter(done | Q(status=Job.Status.IN_PROGRESS)).order_by(
            Case(When(done, then=0), default=1), "pk"
        )
        customers: dict[str, str] = {}
        for pk, number in jobs.values_list("customer_id", "number").iterator(chunk_size=2000):
            customers.setdefault(str(pk), number)
            if len(customers) == limit:
                break
        return customers

    def jobs_to_invoice(self) -> list[str]:
        """The jobs finished and never invoiced (numbers)."""
        done = Job.objects.filter(status=Job.Status.DONE, invoice_number="")
        return list(done.order_by("number").values_list("number", flat=True))

    def jobs_by_state(self, numbers: list[str]) -> dict[str, str]:
        """These jobs' states: "active" (work to do), "finished" or "cancelled"; a number the
        register does not have is left out."""
        active = {Job.Status.SCHEDULED, Job.Status.IN_PROGRESS, Job.Status.ON_HOLD}
        return {
            number: "active"
            if status in active
            else "cancelled"
            if status == Job.Status.CANCELLED
            else "finished"
            for number, status in Job.objects.filter(number__in=numbers).values_list(
                "number", "status"
            )
        }

    def job_item_codes_replace(self, number: str, old: list[str], new: str) -> int:
        """Use item code `new` on the job's lines that have one of `old`; return how many."""
        return services.job_lines_recode(job=_job(number), old=old, new=new)
