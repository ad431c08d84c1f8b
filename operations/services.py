"""Writes to the job register. Each change operations owns records an event."""

from datetime import datetime

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from operations.events import event_record, events_record
from operations.models import Crew, Customer, Job, JobEvent, JobEvidence, JobLine, JobMaterial
from operations.money import price_text
from operations.transitions import ALLOWED, TransitionRefused, transition_check

EVIDENCE_TYPES = {
    "image/jpeg": JobEvidence.Kind.PHOTO,
    "image/png": JobEvidence.Kind.PHOTO,
    "image/webp": JobEvidence.Kind.PHOTO,
    "image/heic": JobEvidence.Kind.PHOTO,
    "application/pdf": JobEvidence.Kind.DOCUMENT,
}


class EvidenceRefused(ValueError):
    """The upload is too large or not a photo or PDF; the message says which."""


def _stamp(value) -> str | None:
    return value.isoformat() if value else None


def _as_user(job: Job, by) -> None:
    """Tell simple-history who made the change (also outside a request)."""
    job._history_user = by


CUSTOMER_DETAILS = (
    "name",
    "contact_name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postcode",
    "country",
    "tax_number",
)


@transaction.atomic
def customer_create(*, name: str, by=None, **details: str) -> Customer:
    """Add a customer to the register (details: any of CUSTOMER_DETAILS)."""
    unknown = set(details) - set(CUSTOMER_DETAILS)
    if unknown:
        raise TypeError(f"A customer has no {', '.join(sorted(unknown))}.")
    customer = Customer(name=name, **details)
    customer._history_user = by
    customer.save()
    event_record(customer=customer, type="customer.created", data={}, by=by)
    return customer


def customer_fields_set(*, customer: Customer, changes: dict[str, str], by=None) -> dict:
    """Change some of a customer's details; return what changed ({name: (before, after)})."""
    return customers_fields_set(changes={customer.pk: changes}, by=by)[customer.pk]


@transaction.atomic
def customers_fields_set(*, changes: dict[int, dict[str, str]], by=None) -> dict[int, dict]:
    """Change many customers' details at once (one statement for the changes, one for their
    history, one for their events); return what changed per customer ({name: (before,
    after)}). Customers the register does not have are left out."""
    customers = Customer.objects.select_for_update().in_bulk(list(changes))
    changed: dict[int, dict] = {}
    for pk, customer in customers.items():
        changed[pk] = {
            name: (getattr(customer, name), value)
            for name, value in changes[pk].items()
            if getattr(customer, name) != value
        }
        for name, (_, value) in changed[pk].items():
            setattr(customer, name, value)
    moved = [customers[pk] for pk, fields in changed.items() if fields]
    if moved:
        now = timezone.now()
        for customer in moved:
            customer.updated_at = now  # as save() would (auto_now)
        names = sorted({name for pk in changed for name in changed[pk]} | {"updated_at"})
        bulk_update_with_history(moved, Customer, names, default_user=by, batch_size=500)
        events_record(
            [
                JobEvent(
                    type="customer.changed",
                    customer=c,
                    data={"fields": sorted(changed[c.pk])},
                    actor=by,
                )
                for c in moved
            ]
        )
    return changed


def jobs_active(*, customer: Customer) -> list[Job]:
    """The customer's jobs that are booked or under way."""
    return list(customer.jobs.filter(status__in=Job.ACTIVE).order_by("number"))


def job_number_assign(*, job: Job) -> None:
    """Give a new job its human-readable number, derived from its id so it never repeats."""
    job.number = f"J-{1000 + job.pk}"
    Job.objects.filter(pk=job.pk).update(number=job.number)


def job_create(
    *,
    customer: Customer,
    title: str,
    lines: list[dict],
    origin_system: str = "",
    origin_ref: str = "",
    by=None,
    **fields,
) -> tuple[Job, bool]:
    """Create a job with its lines; a job already made for the same origin is returned instead.

    The origin is a unique key in the database, so two workers racing on the
    same won deal end with one job, not two.
    """
    try:
        with transaction.atomic():
            job = Job(
                customer=customer,
                title=title,
                origin_system=origin_system,
                origin_ref=origin_ref,
                **fields,
            )
            _as_user(job, by)
            job.save()
            if not job.number:
                job_number_assign(job=job)
            JobLine.objects.bulk_create(
                JobLine(job=job, position=position, **line) for position, line in enumerate(lines)
            )
            event_record(job=job, type="job.created", data={"status": job.status}, by=by)
            return job, True
    except IntegrityError:
        if not origin_ref:
            raise
        return Job.objects.get(origin_system=origin_system, origin_ref=origin_ref), False


@transaction.atomic
def job_transition(*, job: Job, to: str, by=None, by_finance: bool = False) -> Job:
    """Move a job to another status, if the transition table allows it."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if to == Job.Status.DONE and not by_finance:
        raise TransitionRefused("Use 'Mark done': finishing a job needs a sign-off.")
    transition_check(job=job, to=to, by_finance=by_finance)
    before = job.status
    job.status = to
    _as_user(job, by)
    job.save(update_fields=["status", "updated_at"])
    event_record(job=job, type="job.status_changed", data={"from": before, "to": to}, by=by)
    return job


def _done_set(*, pk: int, by, note: str) -> Job | None:
    """Mark the job done in one statement if it may be (its status allows it, it has a
    customer and lines) and return it as it now is; return None and change nothing if not.

    The UPDATE locks, checks and writes at once and returns the row, so Mark done costs
    this statement, the history row and the event between BEGIN and COMMIT.
    """
    table, lines = Job._meta.db_table, JobLine._meta.db_table
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sources = [status for status, targets in ALLOWED.items() if Job.Status.DONE in targets]
    done = Job.objects.raw(
        f"UPDATE {table} SET status = %s, completed_at = %s, completed_by_id = %s, "  # noqa: S608 (names from the models)
        f"completion_note = %s, updated_at = %s WHERE id = %s "
        f"AND status IN ({', '.join(['%s'] * len(sources))}) AND customer_id IS NOT NULL "
        f"AND EXISTS (SELECT 1 FROM {lines} WHERE {lines}.job_id = {table}.id) RETURNING *",
        [Job.Status.DONE, now, by.pk if by else None, note, now, pk, *sources],
    )
    return next(iter(done), None)


def _done_refusal(*, pk: int, note: str) -> TransitionRefused:
    """Say why the job cannot be marked done (its status, customer, lines or note)."""
    lines = JobLine.objects.filter(job=OuterRef("pk"))
    job = Job.objects.annotate(has_lines=Exists(lines)).get(pk=pk)
    transition_check(job=job, to=Job.Status.DONE)
    problems = []
    if job.customer_id is None:
        problems.append("it has no customer")
    if not job.has_lines:
        problems.append("it has no line items, so there is nothing to invoice")
    if not note:
        problems.append("the sign-off note is empty: say what was done")
    # Nothing left to say only if the job changed between the two reads.
    reasons = "; ".join(problems) or "it changed meanwhile: open it again and retry"
    return TransitionRefused(f"Job {job.number} cannot be marked done: {reasons}.")


@transaction.atomic
def job_complete(*, job: Job, by, note: str) -> Job:
    """Mark a job done with a sign-off; refuse a job with no lines or no customer."""
    note = note.strip()
    done = _done_set(pk=job.pk, by=by, note=note) if note else None
    if done is None:
        raise _done_refusal(pk=job.pk, note=note)
    Job.history.bulk_history_create([done], update=True, default_user=by)
    event_record(
        job=done,
        type="job.completed",
        by=by,
        data={
            "completed_at": _stamp(done.completed_at),
            "note": done.completion_note,
            "by": by.get_username() if by else "",
        },
    )
    return done


@transaction.atomic
def job_reschedule(
    *, job: Job, start: datetime | None, end: datetime | None, crew: Crew | None, by=None
) -> Job:
    """Change when and by whom the job is done."""
    if start and end and end < start:
        raise TransitionRefused("The end of the booking is before its start.")
    job = Job.objects.select_for_update().get(pk=job.pk)
    before = {
        "start": _stamp(job.scheduled_start),
        "end": _stamp(job.scheduled_end),
        "crew": job.crew.name if job.crew else None,
    }
    job.scheduled_start, job.scheduled_end, job.crew = start, end, crew
    after = {"start": _stamp(start), "end": _stamp(end), "crew": crew.name if crew else None}
    if before == after:
        return job
    _as_user(job, by)
    job.save()
    event_record(job=job, type="job.rescheduled", data={"before": before, "after": after}, by=by)
    return job


@transaction.atomic
def job_pricing_set(*, job: Job, prices_include_gst: bool, by=None) -> Job:
    """Say whether the job's prices already include GST (how its invoice lines read)."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.invoice_number:
        raise TransitionRefused(
            f"Job {job.number} is already on invoice {job.invoice_number}: change it in Xero."
        )
    job.prices_include_gst = prices_include_gst
    _as_user(job, by)
    job.save(update_fields=["prices_include_gst", "updated_at"])
    return job


@transaction.atomic
def job_site_update(
    *, job: Job, site_address: str, site_contact: str, site_notes: str, by=None
) -> Job:
    """Change the site details operations owns."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    names = ("site_address", "site_contact", "site_notes")
    before = {name: getattr(job, name) for name in names}
    after = {
        "site_address": site_address.strip(),
        "site_contact": site_contact.strip(),
        "site_notes": site_notes.strip(),
    }
    if before == after:
        return job
    for name, value in after.items():
        setattr(job, name, value)
    _as_user(job, by)
    job.save()
    changed = {n: {"before": before[n], "after": after[n]} for n in names if before[n] != after[n]}
    event_record(job=job, type="job.site_changed", data=changed, by=by)
    return job


@transaction.atomic
def evidence_add(*, job: Job, upload: UploadedFile, note: str = "", by=None) -> JobEvidence:
    """Store a photo or PDF for the job, after checking its size and its real type."""
    limit = settings.EVIDENCE_MAX_BYTES
    if upload.size > limit:
        raise EvidenceRefused(
            f"'{upload.name}' is {upload.size / 1_048_576:.1f} MB; the limit is "
            f"{limit / 1_048_576:.0f} MB. Send a smaller photo or a compressed PDF."
        )
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    mime = kind.mime if kind else ""
    if mime not in EVIDENCE_TYPES:
        looks = f"its content looks like {mime}" if mime else "its content is of no kind we know"
        raise EvidenceRefused(
            f"'{upload.name}' is not a photo (JPEG, PNG, WebP, HEIC) or a PDF "
            f"({looks}); other files cannot be kept as evidence."
        )
    evidence = JobEvidence.objects.create(
        job=job,
        file=upload,
        kind=EVIDENCE_TYPES[mime],
        content_type=mime,
        size=upload.size,
        note=note,
        uploaded_by=by,
    )
    event_record(
        job=job,
        type="job.evidence_added",
        by=by,
        data={"file": evidence.file.name, "kind": evidence.kind},
    )
    return evidence


@transaction.atomic
def material_add(
    *, job: Job, description: str, quantity, item_code: str = "", by=None
) -> JobMaterial:
    """Record material actually used on the job."""
    material = JobMaterial.objects.create(
        job=job, description=description, quantity=quantity, item_code=item_code, added_by=by
    )
    event_record(
        job=job,
        type="job.material_added",
        by=by,
        data={"description": description, "quantity": str(quantity), "item_code": item_code},
    )
    return material


@transaction.atomic
def job_promise_update(*, job: Job, amount, lines: list[dict] | None, by=None) -> Job:
    """Replace what the job was promised (amount, and lines unless None), recording before
    and after."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    before = {"amount": str(job.amount), "lines": promised_lines(job)}
    job.amount = amount
    _as_user(job, by)
    job.save()
    if lines is not None:
        job.lines.all().delete()
        JobLine.objects.bulk_create(
            JobLine(job=job, position=position, **line) for position, line in enumerate(lines)
        )
    after = {"amount": str(job.amount), "lines": promised_lines(job)}
    event_record(
        job=job, type="job.promise_changed", data={"before": before, "after": after}, by=by
    )
    return job


def job_xero_figures_set(*, job: Job, figures) -> None:
    """Keep Xero's subtotal, tax and total for the job's draft invoice (read-only here)."""
    Job.objects.filter(pk=job.pk).update(
        xero_subtotal=figures.subtotal, xero_tax=figures.tax, xero_total=figures.total
    )


@transaction.atomic
def job_lines_recode(*, job: Job, old: list[str], new: str, by=None) -> int:
    """Use item code `new` on the job's lines that have one of the `old` codes; return how many."""
    changed = JobLine.objects.filter(job=job, item_code__in=old).update(item_code=new)
    if changed:
        event_record(
            job=job,
            type="job.lines_recoded",
            data={"old": old, "new": new, "lines": changed},
            by=by,
        )
    return changed


def promised_lines(job: Job) -> list[str]:
    """Return the job's lines as short comparable text: '2 x Labour (LABOUR-HR) at 110.00'."""
    return [
        f"{line.quantity.normalize():f} x {line.description} ({line.item_code or 'no code'}) "
        f"at {price_text(line.unit_price)}"
        + (f" less {line.discount.normalize():f}%" if line.discount else "")
        for line in job.lines.order_by("position", "pk")
    ]


@transaction.atomic
def job_line_tax_set(*, job: Job, taxes: dict[int, str], by=None) -> int:
    """Change how some of the job's lines are taxed (line id → gst, gst_free or none) while
    the job is not invoiced; return how many changed. The deal's promise is kept beside."""
    job = Job.objects.select_for_update().get(pk=job.pk)
    if job.invoice_number:
        raise TransitionRefused(
            f"Job {job.number} is already on invoice {job.invoice_number}: change it in Xero."
        )
    unknown = {tax for tax in taxes.values() if tax not in JobLine.Tax.values}
    if unknown:
        raise ValueError(
            f"Unknown tax treatment {', '.join(sorted(unknown))}: use one of "
            f"{', '.join(JobLine.Tax.values)}."
        )
    changed = []
    for line in job.lines.filter(pk__in=list(taxes)):
        if line.tax != taxes[line.pk]:
            before = line.tax
            line.promised_tax = line.promised_tax or before
            line.tax = taxes[line.pk]
            line.save(update_fields=["tax", "promised_tax"])
            changed.append({"line": line.description, "before": before, "after": line.tax})
    if changed:
        event_record(job=job, type="job.lines_taxed", data={"lines": changed}, by=by)
    return len(changed)


@transaction.atomic
def job_invoice_update(*, job: Job, changes: dict, by=None) -> Job:
    """Record what finance says of the job's invoice; the job's status follows it.

    changes: any of invoice_number, invoice_status (a Job.PaymentStatus), amount_invoiced,
    amount_paid, amount_due. A done job with an invoice becomes invoiced, and paid once the
    invoice is paid; an invoice voided or deleted sends an invoiced job back to done; a paid
    job following an invoice not paid (its new draft, once the paid one was credited) is
    invoiced again.
    """
    job = Job.objects.select_for_update().get(pk=job.pk)
    for name, value in changes.items():
        setattr(job, name, value)
    _as_user(job, by)
    job.save()
    cancelled = job.invoice_status in (Job.PaymentStatus.VOIDED, Job.PaymentStatus.DELETED)
    if job.status == Job.Status.PAID and job.invoice_status != Job.PaymentStatus.PAID:
        job = job_transition(job=job, to=Job.Status.INVOICED, by_finance=True)
    if job.status == Job.Status.DONE and job.invoice_number and not cancelled:
        job = job_transition(job=job, to=Job.Status.INVOICED, by_finance=True)
    if job.status == Job.Status.INVOICED and job.invoice_status == Job.PaymentStatus.PAID:
        job = job_transition(job=job, to=Job.Status.PAID, by_finance=True)
    if job.status == Job.Status.INVOICED and cancelled:
        job = job_transition(job=job, to=Job.Status.DONE, by_finance=True)
    return job
