"""One module per handoff; importing this package registers them all."""

from handoffs.flows import (  # noqa: F401
    crm_carried_fields,
    crm_customer_fields,
    customer_change_to_active_jobs,
    deal_changes_to_job,
    deal_won_to_job,
    invoice_to_crm,
    job_done_to_invoice,
    job_to_crm,
    quote_accepted_to_job,
    xero_contact_to_carriers,
)
