"""Crediting an approved invoice and raising its new draft under vendor faults: a 429, a
503 and an answer lost after Xero acted (and a real timeout) on each write (the credit
note, its allocation, the new draft). Each effect lands exactly once and no item opens."""

import pytest
from django.conf import settings

from handoffs.models import HandoffRun
from review_queue.models import ReviewItem
from review_queue.services import review_item_resolve
from tests.handoffs.test_approved_invoice import approved_job, fewer_hours
from tests.helpers import wait_for
from tests.xero_helpers import xero_invoices, xero_org

WRITES = {
    "credit note": "PUT /CreditNotes",
    "allocation": "PUT /CreditNotes/*/Allocations",
    "new draft": "PUT /Invoices",
}
FAULTS = {
    "429": {"status": 429, "count": 3, "retry_after": 1},
    "503": {"status": 503, "count": 2},
    "answer lost": {"status": 503, "count": 1, "after": True},
}


def credited_under(hub, django_user_model, office_staff, write: str, fault: dict) -> None:
    job, invoice = approved_job(hub, django_user_model)
    item = fewer_hours(hub, job, office_staff)
    hub.xero.store.fault_add(operation=WRITES[write], **fault)
    review_item_resolve(item=item, by=office_staff, action="credit_and_redraft")
    run = wait_for(
        lambda: HandoffRun.objects.filter(
            handoff="credit_and_redraft", state__in=["done", "needs_review"]
        ).first(),
        what="the credit and the new draft",
    )
    assert run.state == "done", run.summary
    assert [f["count"] for f in hub.xero.store.call_faults] == [0]  # the fault did happen
    org = xero_org(hub)
    (note,) = org.credit_notes.values()
    assert len(note["Allocations"]) == 1
    assert org.invoices[invoice["InvoiceID"]]["AmountCredited"] == 3141.6
    assert len(xero_invoices(hub)) == 2
    assert not ReviewItem.objects.filter(status="open").exclude(kind="connection").exists()


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("write", list(WRITES))
def test_each_write_of_a_credit_lands_once_under_a_fault(
    hub, django_user_model, office_staff, write, fault
):
    credited_under(hub, django_user_model, office_staff, write, FAULTS[fault])


def test_a_credit_note_whose_answer_comes_too_late_is_found_not_made_again(
    hub, django_user_model, office_staff
):
    late = {"count": 1, "after": True, "latency_ms": (settings.XERO_TIMEOUT_SECONDS + 1) * 1000}
    credited_under(hub, django_user_model, office_staff, "credit note", late)
