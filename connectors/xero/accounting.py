"""The hub's calls to Xero's Accounting API, through xero-python, for one connection."""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from xero_python.accounting import AccountingApi, Contact, Contacts, Invoices

from connectors.calls import call
from connectors.errors import Invalid
from connectors.models import XeroConnection
from connectors.xero.client import api_client
from connectors.xero.errors import translate
from connectors.xero.limits import slot
from connectors.xero.tokens import access_token


class XeroAccounting:
    """Contacts and invoices in one Xero organisation; failures leave as typed errors."""

    system = "xero"

    def __init__(self, connection: XeroConnection) -> None:
        self.connection = connection

        def token() -> dict:
            # Our refresh (under a row lock) runs first, so xero-python never refreshes itself.
            fresh = access_token(connection.pk)
            current = XeroConnection.objects.get(pk=connection.pk)
            expires_at = current.expires_at.timestamp() if current.expires_at else time.time()
            return {
                "access_token": fresh,
                "token_type": "Bearer",
                "expires_in": max(int(expires_at - time.time()), 0),
                "expires_at": expires_at,
                "scope": current.scopes.split(),
            }

        client = api_client(
            client_id=settings.XERO_CLIENT_ID,
            client_secret=settings.XERO_CLIENT_SECRET,
            token_getter=token,
            token_saver=lambda new_token: None,
        )
        self.api = AccountingApi(client, base_url=settings.XERO_API_BASE_URL)

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant = self.connection.tenant_id
        with call(self.system, method.__name__, what) as entry, slot(tenant, what=what):
            try:
                result, _, headers = method(tenant, *args, _return_http_data_only=False, **kwargs)
            except Exception as exc:
                self._headroom(getattr(exc, "headers", None) or {}, success=False)
                raise translate(exc, what=what) from exc
            self._headroom(headers, success=True)
            entry["response"] = type(result).__name__
            return result

    def _headroom(self, headers, *, success: bool) -> None:
        """Keep what Xero said is left of its limits, for the dashboard."""

        def number(name: str) -> int | None:
            value = headers.get(name)
            return int(value) if value and str(value).isdigit() else None

        changes = {
            "minute_remaining": number("X-MinLimit-Remaining"),
            "day_remaining": number("X-DayLimit-Remaining"),
        }
        changes = {k: v for k, v in changes.items() if v is not None}
        if success:
            changes["last_success_at"] = timezone.now()
        if changes:
            XeroConnection.objects.filter(pk=self.connection.pk).update(**changes)

    def contact_find(self, *, contact_number: str) -> str | None:
        """Return the ContactID of the contact with the hub's ContactNumber, if any."""
        found = self._call(
            f"finding contact {contact_number}",
            self.api.get_contacts,
            where=f'ContactNumber=="{contact_number}"',
        )
        return found.contacts[0].contact_id if found.contacts else None

    def contact_create(self, *, name: str, contact_number: str, email: str = "") -> str:
        """Create a contact carrying the hub's id as ContactNumber; return its ContactID."""
        made = self._call(
            f"creating contact {name}",
            self.api.create_contacts,
            Contacts(
                contacts=[
                    Contact(name=name, contact_number=contact_number, email_address=email or None)
                ]
            ),
            summarize_errors=False,
        )
        contact = made.contacts[0]
        if contact.has_validation_errors:
            messages = "; ".join(e.message for e in contact.validation_errors)
            raise Invalid(
                f"Xero would not create the contact '{name}': {messages}",
                system=self.system,
                code="contact_rejected",
                fix="Rename or merge the contact in Xero (names must be unique), then Retry.",
            )
        return contact.contact_id

    def invoices_create(self, invoices: list, *, idempotency_key: str) -> list:
        """Create invoices with per-invoice errors (summarizeErrors=false) and a replay-safe key."""
        made = self._call(
            "creating invoices",
            self.api.create_invoices,
            Invoices(invoices=invoices),
            summarize_errors=False,
            idempotency_key=idempotency_key,
        )
        return made.invoices

    def item_codes(self) -> list[str]:
        """Return the item codes the organisation knows."""
        return sorted(item.code for item in self._call("reading items", self.api.get_items).items)

    def invoice_get(self, invoice_id: str):
        """Return one invoice."""
        return self._call(
            f"reading invoice {invoice_id}", self.api.get_invoice, invoice_id
        ).invoices[0]

    def invoices_by_reference(self, references: list[str]) -> list:
        """Return the ACCREC invoices whose Reference is one of these (a job's number)."""
        clause = " OR ".join(f'Reference=="{r}"' for r in references)
        return self._call(
            "finding invoices by reference",
            self.api.get_invoices,
            where=f'Type=="ACCREC" AND ({clause})',
        ).invoices

    def changed_since(self, resource: str, since, page: int) -> list:
        """Return one page (100) of Invoices, Payments or Quotes changed after `since`."""
        method = {
            "invoices": self.api.get_invoices,
            "payments": self.api.get_payments,
            "quotes": self.api.get_quotes,
        }[resource]
        found = self._call(
            f"reading {resource} changed since {since:%Y-%m-%d %H:%M:%S}",
            method,
            if_modified_since=since,
            page=page,
        )
        return getattr(found, resource)

    def quote_get(self, quote_id: str):
        """Return one quote."""
        return self._call(f"reading quote {quote_id}", self.api.get_quote, quote_id).quotes[0]

    def contact_get(self, contact_id: str):
        """Return one contact."""
        return self._call(
            f"reading contact {contact_id}", self.api.get_contact, contact_id
        ).contacts[0]
