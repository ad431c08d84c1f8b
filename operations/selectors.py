"""Reads from the job register."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from operations.models import Job


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None


def day_bounds(day: date, days: int = 1) -> tuple[datetime, datetime]:
    """Return the start and end of a run of local days, as aware datetimes."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, start + timedelta(days=days)


@dataclass(frozen=True)
class JobFilter:
    """What a person asked the job list to show."""

    status: str = ""
    date_from: date | None = None
    date_to: date | None = None
    crew: str = ""
    customer: str = ""
    q: str = ""

    @classmethod
    def from_query(cls, params) -> "JobFilter":
        """Read the filter from a query string; `today=1` means today's jobs."""
        if params.get("today"):
            today = timezone.localdate()
            return cls(date_from=today, date_to=today)
        status = params.get("status", "")
        return cls(
            status=status if status in Job.Status.values else "",
            date_from=_day(params.get("date_from")),
            date_to=_day(params.get("date_to")),
            crew=params.get("crew", "") if params.get("crew", "").isdigit() else "",
            customer=params.get("customer", "").strip()[:100],
            q=params.get("q", "").strip()[:100],
        )


def jobs_filtered(f: JobFilter) -> QuerySet[Job]:
    """Return the jobs matching the filter, soonest scheduled first."""
    jobs = Job.objects.select_related("customer", "crew")
    if f.status:
        jobs = jobs.filter(status=f.status)
    if f.date_from:
        jobs = jobs.filter(scheduled_start__gte=day_bounds(f.date_from)[0])
    if f.date_to:
        jobs = jobs.filter(scheduled_start__lt=day_bounds(f.date_to)[1])
    if f.crew:
        jobs = jobs.filter(crew_id=int(f.crew))
    if f.customer:
        jobs = jobs.filter(customer__name__icontains=f.customer)
    if f.q:
        jobs = jobs.filter(
            Q(number__iexact=f.q)
            | Q(title__icontains=f.q)
            | Q(customer__name__icontains=f.q)
            | Q(site_address__icontains=f.q)
        )
    return jobs.order_by("scheduled_start", "number")


def schedule(*, start: date, days: int) -> list[tuple[date, list[Job]]]:
    """Return each day from `start` with the jobs booked to start on it."""
    first, last = day_bounds(start, days)
    jobs = (
        Job.objects.filter(scheduled_start__gte=first, scheduled_start__lt=last)
        .select_related("customer", "crew")
        .order_by("scheduled_start")
    )
    by_day: dict[date, list[Job]] = {start + timedelta(days=n): [] for n in range(days)}
    for job in jobs:
        by_day[timezone.localtime(job.scheduled_start).date()].append(job)
    return list(by_day.items())
