"""The tracking each invoice line carries: admins map a job field (its crew, its site's
state, or a property of the HubSpot deal it came from) to one of Xero's tracking
categories, and the job's value names the option.

A job with no value (and no option set for that case), or whose option Xero does not have,
waits on one review item before anything is sent; once Xero has made the draft, the hub
reads it back, and lines that did not keep their tracking open one item for the job. An
invoice is never left untracked in silence.
"""

from connectors.base import InvoiceMade, JobFacts, Tracking
from connectors.errors import Invalid
from connectors.models import TrackingMapping
from connectors.registry import crm, finance
from review_queue.models import ReviewItem
from review_queue.services import review_item_open


def _deal_values(mappings: list[TrackingMapping], jobs: list[JobFacts]) -> dict:
    """(property, deal id) → the deal's value now, in one read per mapped property."""
    sales = crm()
    deals = [job.origin_ref for job in jobs if job.origin_system == sales.system]
    values = {}
    for mapping in mappings:
        if mapping.source == TrackingMapping.Source.HUBSPOT and deals:
            found = sales.deals_property(deals, mapping.hubspot_property)
            values |= {(mapping.hubspot_property, d): v for d, v in found.items()}
    return values


def _value(mapping: TrackingMapping, job: JobFacts, deal_values: dict) -> str:
    if mapping.source == TrackingMapping.Source.CREW:
        return job.crew
    if mapping.source == TrackingMapping.Source.REGION:
        return job.site_region
    return deal_values.get((mapping.hubspot_property, job.origin_ref), "")


def _no_value(mapping: TrackingMapping, job: JobFacts) -> Invalid:
    """The job has nothing to name the category's option, and no option is set for that."""
    money = finance()
    elsewhere = (
        f"on the hub's Xero page under 'Tracking categories', give '{mapping.category}' an "
        "option for jobs that have none"
    )
    if mapping.source == TrackingMapping.Source.CREW:
        said, fix = "no crew", f"Set the crew on job {job.number}'s page"
    elif mapping.source == TrackingMapping.Source.REGION:
        said = "no state in its site address"
        fix = f"Write the site's state in job {job.number}'s site address (e.g. '…, NSW 2000')"
    elif job.origin_system != crm().system:
        said = f"no HubSpot deal to read '{mapping.hubspot_property}' from"
        fix, elsewhere = elsewhere[0].upper() + elsewhere[1:], ""
    else:
        said = f"an empty '{mapping.hubspot_property}' on its HubSpot deal {job.origin_ref}"
        fix = f"Fill in '{mapping.hubspot_property}' on the deal in HubSpot"
    return Invalid(
        f"Job {job.number} has {said}, so its invoice lines would carry no option in "
        f"{money.label}'s tracking category '{mapping.category}'. No invoice was sent.",
        system=money.system,
        code="tracking_value",
        fix=f"{fix}, then press Retry." + (f" (Or {elsewhere}.)" if elsewhere else ""),
        details={"category": mapping.category, "job": job.number},
    )


def tracking_of(jobs: list[JobFacts]) -> dict[str, tuple[Tracking, ...] | Invalid]:
    """Each job's tracking (by number), or why it has none to give."""
    mappings = list(TrackingMapping.objects.all())
    if not mappings:
        return {job.number: () for job in jobs}
    deal_values = _deal_values(mappings, jobs)
    found: dict[str, tuple[Tracking, ...] | Invalid] = {}
    for job in jobs:
        chosen = []
        for mapping in mappings:
            option = _value(mapping, job, deal_values).strip() or mapping.fallback
            if not option:
                found[job.number] = _no_value(mapping, job)
                break
            chosen.append(Tracking(mapping.category, option))
        else:
            found[job.number] = tuple(chosen)
    return found


def tracking_root(number: str) -> str:
    """The one item per job about its invoice's tracking."""
    return f"tracking-not-kept:job:{number}"


def _same(tracking: Tracking) -> tuple[str, str]:
    """A category and option as the finance system matches them: in any case."""
    return tracking.category.strip().lower(), tracking.option.strip().lower()


def tracking_compare(
    job: JobFacts, wanted: tuple[Tracking, ...], held: InvoiceMade
) -> ReviewItem | None:
    """Open the job's item when a line of the invoice, read back, does not hold the tracking
    it was sent with (and return it), else None."""
    lines = [{_same(t) for t in line} for line in held.lines_tracking] or [set()]
    lost = sorted({t.text() for line in lines for t in wanted if _same(t) not in line})
    if not lost:
        return None
    money = finance()
    return review_item_open(
        root_key=tracking_root(job.number),
        kind=ReviewItem.Kind.TRACKING_NOT_KEPT,
        system=money.system,
        title=f"{money.label} did not keep the invoice's tracking: {job.label}",
        reason=f"The hub sent draft invoice {held.number} for job {job.number} with "
        f"{', '.join(t.text() for t in wanted)} on every line; read back from {money.label}, "
        f"its lines lack {', '.join(lost)}. The invoice was made and is not sent again.",
        action=f"Open invoice {held.number} in {money.label}, set {', '.join(lost)} on each "
        "line (Tracking column), save it, then dismiss this item saying so.",
        record_type="job",
        record_ref=job.number,
        record_label=job.label,
        details={"job": job.number, "invoice": held.number, "missing": lost},
    )
