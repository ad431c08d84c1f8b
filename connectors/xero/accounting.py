"""The hub's calls to Xero's Accounting API, through xero-python, for one connection."""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import timezone
from xero_python.accounting import AccountingApi, Address, Contact, Contacts, Invoices

from connectors.calls import call
from connectors.errors import AuthExpired, Invalid
from connectors.models import XeroConnection
from connectors.xero.client import api_client
from connectors.xero.errors import refusal, translate
from connectors.xero.limits import slot
from connectors.xero.mapping import code
from connectors.xero.tokens import access_token


class XeroAccounting:
    """Contacts and invoices in one Xero organisation; failures leave as typed errors."""

    system = "xero"

    @classmethod
    def connected(cls, tenant: str | None = None) -> "XeroAccounting":
        """Reach the tenant an event came from, or (no tenant) the first one connected.

        With none connected, every handoff that needs Xero waits on one "Reconnect Xero"
        item, and connecting again resumes them all.
        """
        found = XeroConnection.objects.filter(status=XeroConnection.Status.CONNECTED)
        connection = (found.filter(tenant_id=tenant) if tenant else found).order_by("pk").first()
        if connection is None:
            raise AuthExpired(
                "No Xero organisation is connected"
                + (" (the one this change came from is not)" if tenant else "")
                + ", so the hub cannot reach Xero.",
                system="xero",
                code="not_connected",
                fix="An admin connects Xero from the hub's Xero page.",
            )
        return cls(connection)

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

    def contact_candidates(self, *, name: str, email: str, tax_number: str) -> list[dict]:
        """Return contacts that may be this customer: same ABN, same email, or same name.

        Xero's names are unique among active contacts, so a same-named contact would also
        stop a new one being created.
        """
        digits = "".join(ch for ch in tax_number if ch.isdigit())
        searches = []
        if len(digits) == 11:  # an ABN, as Xero may show it: plain or spaced 2-3-3-3
            spaced = f"{digits[:2]} {digits[2:5]} {digits[5:8]} {digits[8:]}"
            searches.append(("same ABN", f'TaxNumber=="{digits}" OR TaxNumber=="{spaced}"'))
        if email:
            searches.append(("same email", f'EmailAddress=="{email}"'))
        searches.append(("same name", f'Name=="{name}"'))
        found: dict[str, dict] = {}
        for why, where in searches:
            for contact in self._call(
                f"looking for {why}", self.api.get_contacts, where=where
            ).contacts:
                if code(contact.contact_status) == "ACTIVE":
                    entry = found.setdefault(
                        contact.contact_id,
                        {"id": contact.contact_id, "name": contact.name, "why": why},
                    )
                    if why not in entry["why"]:
                        entry["why"] += f", {why}"
        return list(found.values())

    def contact_create(
        self, *, name: str, contact_number: str, email: str = "", address: str = "",
        tax_number: str = "",
    ) -> str:  # fmt: skip
        """Create a contact carrying the hub's id as ContactNumber; return its ContactID.

        The address is the register's one line ("street, city, state, postcode").
        """
        parts = [part.strip() for part in address.split(",")] + ["", "", "", ""]
        billing = Address(address_type="POBOX", address_line1=parts[0], city=parts[1] or None,
                          region=parts[2] or None, postal_code=parts[3] or None)  # fmt: skip
        made = self._call(
            f"creating contact {name}",
            self.api.create_contacts,
            Contacts(
                contacts=[
                    Contact(
                        name=name,
                        contact_number=contact_number,
                        email_address=email or None,
                        tax_number=tax_number or None,
                        addresses=[billing] if parts[0] else None,
                    )
                ]
            ),
            summarize_errors=False,
        )
        contact = made.contacts[0]
        if contact.has_validation_errors:
            messages = "; ".join(e.message for e in contact.validation_errors)
            code, fix = refusal(messages)
            raise Invalid(
                f"Xero would not create the contact '{name}': {messages}",
                system=self.system,
                code=code,
                fix=fix,
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

    def contacts_by_id(self, contact_ids: list[str]) -> list:
        """Return these contacts (their terms included), in one call per 100 ids."""
        found = []
        for start in range(0, len(contact_ids), 100):
            chunk = contact_ids[start : start + 100]
            found += self._call(
                f"reading {len(chunk)} contacts", self.api.get_contacts, i_ds=chunk
            ).contacts
        return found

    def contact_field_set(self, contact_id: str, field: str, value: str) -> None:
        """Change one customer field Xero owns on a contact (a person chose it in the hub)."""
        change = {
            "billing_name": {"name": value},
            "billing_address": {"addresses": [Address(address_type="POBOX", address_line1=value)]},
            "tax_number": {"tax_number": value},
        }[field]
        made = self._call(
            f"changing {field} of contact {contact_id}",
            self.api.update_contact,
            contact_id,
            Contacts(contacts=[Contact(contact_id=contact_id, **change)]),
        )
        contact = made.contacts[0]
        if contact.has_validation_errors:
            messages = "; ".join(e.message for e in contact.validation_errors)
            code, fix = refusal(messages)
            raise Invalid(f"Xero refused the change: {messages}", system=self.system,
                          code=code, fix=fix)  # fmt: skip
