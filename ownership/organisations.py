"""Which finance organisation (Xero tenant) invoices a job: the one place that decides.

The order: a rule for the job's customer, else a rule for the CRM pipeline its deal is in
now, else the default organisation the admin chose on the Xero page (or the only one
connected). Admins set all three on the Xero page; each rule is an InvoiceRoute, with
its history.
"""

from connectors.base import JobFacts
from connectors.registry import crm, finance
from ownership.models import InvoiceRoute, Record


def organisations_for(jobs: dict[str, tuple[JobFacts, Record]]) -> dict[str, str | Exception]:
    """Return, per job number, the organisation that invoices it (or why none can be said).

    `jobs`: each job's facts and its customer's record. The CRM is asked for the deals'
    pipelines (one call per 100 deals) only when a pipeline rule exists.
    """
    customers = dict(
        InvoiceRoute.objects.filter(
            kind=InvoiceRoute.Kind.CUSTOMER, customer__in=[r for _, r in jobs.values()]
        ).values_list("customer_id", "organisation")
    )
    pipelines = dict(
        InvoiceRoute.objects.filter(kind=InvoiceRoute.Kind.PIPELINE).values_list(
            "pipeline", "organisation"
        )
    )
    sales = crm()
    deals = [j.origin_ref for j, _ in jobs.values() if j.origin_system == sales.system]
    pipeline_of = sales.deals_pipeline(deals) if pipelines and deals else {}
    found: dict[str, str | Exception] = {}
    for number, (job, customer) in jobs.items():
        by_deal = pipelines.get(pipeline_of.get(job.origin_ref, "")) if job.origin_ref else None
        found[number] = customers.get(customer.pk) or by_deal or ""
    if "" in found.values():
        try:
            default: str | Exception = finance().organisation_default()
        except Exception as error:  # the one cause every such job waits on
            default = error
        found = {number: org or default for number, org in found.items()}
    return found
