"""Writes to the job register."""

from django.db import IntegrityError, transaction

from operations.models import Customer, Job, JobLine


@transaction.atomic
def customer_create(*, name: str, email: str = "", phone: str = "", address: str = "") -> Customer:
    """Add a customer to the register."""
    return Customer.objects.create(name=name, email=email, phone=phone, address=address)


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
    **fields,
) -> tuple[Job, bool]:
    """Create a job with its lines; a job already made for the same origin is returned instead.

    The origin is a unique key in the database, so two workers racing on the
    same won deal end with one job, not two.
    """
    try:
        with transaction.atomic():
            job = Job.objects.create(
                customer=customer,
                title=title,
                origin_system=origin_system,
                origin_ref=origin_ref,
                **fields,
            )
            job_number_assign(job=job)
            JobLine.objects.bulk_create(
                JobLine(job=job, position=position, **line) for position, line in enumerate(lines)
            )
            return job, True
    except IntegrityError:
        if not origin_ref:
            raise
        return Job.objects.get(origin_system=origin_system, origin_ref=origin_ref), False
