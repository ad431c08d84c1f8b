"""One module per handoff; importing this package registers them all.

Every shared field, of every record, is kept to its owner by one handoff (`shared_fields`,
through the ownership engine); the others follow business events that make something new.
"""

from handoffs.flows import (  # noqa: F401
    approved_invoice,
    deal_won_to_job,
    job_done_to_invoice,
    promised_amount,
    quote_accepted_to_job,
    shared_fields,
)
