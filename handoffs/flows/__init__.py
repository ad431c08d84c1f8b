"""One module per handoff; importing this package registers them all."""

from handoffs.flows import crm_carried_fields, deal_won_to_job, job_to_crm  # noqa: F401
