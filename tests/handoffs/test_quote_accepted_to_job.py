"""An accepted Xero quote becomes one job, found by polling; its invoice goes to that contact."""

from connectors.sandbox.xero import console
from handoffs.polling import finance_poll as xero_poll
from operations import services
from operations.models import Job
from tests.handoffs.test_invoice_settings import day
from tests.helpers import wait_for
from tests.xero_helpers import connect_xero, xero_invoices


def test_an_accepted_quote_becomes_one_job_for_the_quoted_contact(hub, django_user_model):
    connect_xero(hub)
    org = next(iter(hub.xero.store.organisations.values()))
    (quote,) = org.quotes.values()
    assert xero_poll()["quotes"] == 0  # sent, not yet accepted: nothing to do
    console.act(hub.xero.store, [org.tenant_id, "quotes", quote["QuoteID"], "accept"], {})
    assert xero_poll()["quotes"] == 1
    job = wait_for(lambda: Job.objects.filter(origin_ref=quote["QuoteID"]).first(), what="the job")
    assert (job.origin_system, job.title) == ("xero", "Northside Dental - Surgery 3 fit-out")
    assert job.customer.name == "Northside Dental Group"
    assert job.customer.tax_number == "33 102 417 032"  # as Xero, its owner, writes it
    assert [(line.item_code, line.quantity) for line in job.lines.order_by("pk")] == [
        ("FITOUT-EL", 1),
        ("EM-TEST", 12),
    ]
    assert xero_poll()["quotes"] == 0
    assert Job.objects.filter(origin_ref=quote["QuoteID"]).count() == 1
    # Finished, it is invoiced to the contact that accepted the quote: no second contact.
    services.job_transition(job=job, to="in_progress")
    tech = django_user_model.objects.create_user("tech")
    services.job_complete(job=job, by=tech, note="Fit-out done, lights tested.")
    wait_for(lambda: Job.objects.get(pk=job.pk).status == "invoiced", what="the invoice")
    (invoice,) = xero_invoices(hub)
    assert invoice["Contact"]["ContactID"] == quote["Contact"]["ContactID"]
    # Due by the contact's terms: the 20th of the month after the invoice's month.
    issued, due = day(invoice["Date"]), day(invoice["DueDate"])
    assert (due.day, (due.year * 12 + due.month) - (issued.year * 12 + issued.month)) == (20, 1)
    assert len(org.contacts) == 1
