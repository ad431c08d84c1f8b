"""The hub's calls to Xero's Accounting API, through xero-python, for one connection."""

from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from xero_python.accounting import (
    AccountingApi,
    Allocations,
    Contact,
    Contacts,
    CreditNotes,
    Invoices,
)

from connectors.calls import call
from connectors.errors import Invalid
from connectors.models import XeroConnection
from connectors.xero.client import api_client
from connectors.xero.contacts import (
    CREATE_BATCH,
    ContactMade,
    CustomerQuery,
    NewContact,
    Sought,
    candidates,
    contact_made,
    contact_model,
    customer_clauses,
    quoted,
    where_chunks,
)
from connectors.xero.errors import refusal, translate
from connectors.xero.limits import answer_read, slot
from connectors.xero.organisations import connection_for
from connectors.xero.tokens import access_token, access_token_renew, reconnect_needed

PAGE_SIZE = 100  # Xero's page of contacts
LIST_PAGE_SIZE = 1000  # the largest page Xero gives (pageSize), for reading whole lists
# How long the hub keeps how many pages an organisation's contact list takes.
LIST_PAGES_KEPT_SECONDS = 86400


class TokenRefused(Exception):
    """Xero answered 401 to this access token."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class XeroAccounting:
    """Contacts and invoices in one Xero organisation; failures leave as typed errors.

    One instance per thread: it holds the access token of the call in progress.
    """

    system = "xero"

    @classmethod
    def connected(cls, tenant: str | None = None) -> "XeroAccounting":
        """Reach this tenant, or (None) the default organisation (connectors/xero/organisations).

        With none connected, every handoff that needs Xero waits on one "Reconnect Xero"
        item (the organisation's own, when it is marked for reconnecting), and connecting
        again resumes them all.
        """
        return cls(connection_for(tenant))

    def __init__(self, connection: XeroConnection) -> None:
        self.connection = connection
        self.token = ""
        client = api_client(
            client_id=settings.XERO_CLIENT_ID,
            client_secret=settings.XERO_CLIENT_SECRET,
            # The hub refreshes (tokens.py, under a row lock) before and after each call;
            # with no expiry given, xero-python never refreshes by itself.
            token_getter=lambda: {
                "access_token": self.token,
                "token_type": "Bearer",
                "expires_in": None,
                "expires_at": None,
                "scope": self.connection.scopes.split(),
            },
            token_saver=lambda new_token: None,
        )
        self.api = AccountingApi(client, base_url=settings.XERO_API_BASE_URL)

    def _call(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Make one call; on 401 renew the token (once for all workers) and try once more.

        Only a 401 to a token renewed for this very call means the connection is gone: then
        the connection is marked for reconnecting and the one "Reconnect Xero" item follows.
        """
        self.token = access_token(self.connection.pk)
        try:
            return self._send(what, method, *args, **kwargs)
        except TokenRefused:
            self.token = access_token_renew(self.connection.pk, refused=self.token)
        try:
            return self._send(what, method, *args, **kwargs)
        except TokenRefused as refused:
            raise reconnect_needed(self.connection, refused.detail) from refused

    def _send(self, what: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        tenant = self.connection.tenant_id
        with call(self.system, method.__name__, what) as entry, slot(tenant, what=what) as said:
            try:
                result, status, headers = method(
                    tenant,
                    *args,
                    _return_http_data_only=False,
                    _request_timeout=settings.XERO_TIMEOUT_SECONDS,
                    **kwargs,
                )
            except Exception as exc:
                status = getattr(exc, "status", None)
                headers = getattr(exc, "headers", None) or {}
                answer_read(said, headers, status if isinstance(status, int) else None)
                self._headroom(headers, success=False)
                if status == 401:
                    raise TokenRefused(f"HTTP 401\n{getattr(exc, 'body', '')}") from exc
                if status == 403:  # the organisation left the app's reach, or a scope is missing
                    detail = f"HTTP 403\n{getattr(exc, 'body', '')}"
                    raise reconnect_needed(self.connection, detail, whole_grant=False) from exc
                raise translate(exc, what=what) from exc
            answer_read(said, headers, status)
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

    def _pages(
        self, what: str, method: Callable[..., Any], key: str, size: int = PAGE_SIZE, **kwargs: Any
    ) -> list:
        """Every record a paged read answers, `size` a call."""
        found, page = [], 1
        while True:
            answer = self._call(what, method, page=page, page_size=size, **kwargs)
            records = getattr(answer, key)
            found += records
            if len(records) < size:
                return found
            page += 1

    def _contacts_where(self, what: str, wheres: list[str]) -> list:
        """Return the contacts matching any of these `where` values, page by page."""
        return [
            contact
            for where in wheres
            for contact in self._pages(what, self.api.get_contacts, "contacts", where=where)
        ]

    def contacts_changed(self, since: datetime | None) -> list:
        """Return the active contacts changed after `since` (all of them without it)."""
        return self._changed("contacts", 'ContactStatus=="ACTIVE"', since)

    def invoices_changed(self, since: datetime | None) -> list:
        """Return the sales invoices changed after `since` (all of them without it)."""
        return self._changed("invoices", 'Type=="ACCREC"', since)

    def _changed(self, resource: str, where: str, since: datetime | None) -> list:
        """A whole list read in pages of LIST_PAGE_SIZE, with If-Modified-Since when given."""
        method = {"contacts": self.api.get_contacts, "invoices": self.api.get_invoices}[resource]
        what = f"reading the {resource}" + (
            f" changed since {since:%Y-%m-%d %H:%M}" if since else ""
        )
        extra = {"if_modified_since": since} if since else {}
        return self._pages(what, method, resource, LIST_PAGE_SIZE, where=where, **extra)

    def contacts_sought(self, numbers: list[str], customers: list[CustomerQuery]) -> Sought:
        """Find the contacts carrying these ContactNumbers and the ACTIVE contacts that may be
        these customers (the same ABN, email or name), all in as few calls as can be.

        The `where` tests of all of them, OR-joined, take a call per WHERE_MAX_BYTES; when
        that is more than one call and the organisation's whole active list is shorter in
        pages of LIST_PAGE_SIZE, the list is read instead (a month end's 200 new customers:
        one call for a list of a few hundred contacts, not fourteen).
        """
        wanted = set(numbers)
        clauses = [[f"ContactNumber=={text}"] for n in sorted(wanted) if (text := quoted(n))]
        wheres = where_chunks(clauses + [customer_clauses(c) for c in customers])
        what = f"looking for {len(wanted) + len(customers)} customers among the contacts"
        contacts = self._contacts_listed(what, most=len(wheres) - 1)
        if contacts is None:
            contacts = self._contacts_where(what, wheres)
        unique = list({c.contact_id: c for c in contacts}.values())
        numbered = [c for c in unique if c.contact_number in wanted]
        return Sought(
            by_number={c.contact_number: c.contact_id for c in numbered},
            candidates={c.key: candidates(c, unique) for c in customers},
            contacts={c.contact_id: c for c in unique},
        )

    def _contacts_listed(self, what: str, *, most: int) -> list | None:
        """The whole active contact list, if it takes at most `most` calls; else None (and
        how long it is, or that it is longer, is kept a day, so no call is spent learning it
        again)."""
        key = f"xero:contacts-pages:{self.connection.tenant_id}"
        try:
            known = cache.get(key)
        except Exception:  # a cache that cannot be read knows nothing
            known = None
        if most < 1 or (known is not None and known > most):
            return None
        found, page = [], 1
        while page <= most:
            answer = self._call(
                what,
                self.api.get_contacts,
                where='ContactStatus=="ACTIVE"',
                page=page,
                page_size=LIST_PAGE_SIZE,
            )
            found += answer.contacts
            if len(answer.contacts) < LIST_PAGE_SIZE:
                with suppress(Exception):  # a cache that cannot be written is only slower
                    cache.set(key, page, LIST_PAGES_KEPT_SECONDS)
                return found
            page += 1
        with suppress(Exception):
            cache.set(key, most + 1, LIST_PAGES_KEPT_SECONDS)
        return None

    def contacts_create(self, new: list[NewContact], *, idempotency_key: str) -> list[ContactMade]:
        """Create contacts, 50 to a request, each with its ContactID or Xero's refusal.

        summarizeErrors=false makes Xero answer per contact; the Idempotency-Key (with the
        request's number when there are several) makes a retry replay Xero's first answer.
        """
        made: list[ContactMade] = []
        for start in range(0, len(new), CREATE_BATCH):
            chunk = new[start : start + CREATE_BATCH]
            # Xero takes keys of up to 128 characters; the request's number keeps them apart.
            base = idempotency_key[:120]
            key = base if len(new) <= CREATE_BATCH else f"{base}-{start}"
            answer = self._call(
                f"creating {len(chunk)} contacts",
                self.api.create_contacts,
                Contacts(contacts=[contact_model(c) for c in chunk]),
                summarize_errors=False,
                idempotency_key=key,
            )
            made += [contact_made(c, a) for c, a in zip(chunk, answer.contacts, strict=True)]
        return made

    def invoices_create(self, invoices: list, *, idempotency_key: str) -> list:
        """Create invoices with per-invoice errors (summarizeErrors=false) and a replay-safe key.

        Unit prices go with up to four decimal places (unitdp=4): without it Xero rounds
        them to two, and its totals would differ from the hub's.
        """
        made = self._call(
            "creating invoices",
            self.api.create_invoices,
            Invoices(invoices=invoices),
            summarize_errors=False,
            unitdp=4,
            idempotency_key=idempotency_key,
        )
        return made.invoices

    def item_codes(self) -> list[str]:
        """Return the item codes the organisation knows."""
        return sorted(item.code for item in self._call("reading items", self.api.get_items).items)

    def tax_rates(self) -> list:
        """Return every tax rate, archived ones too (one call)."""
        return self._call("reading the tax rates", self.api.get_tax_rates).tax_rates

    def tracking_categories(self) -> list:
        """Return every tracking category with its options, archived ones too (one call)."""
        return self._call(
            "reading the tracking categories",
            self.api.get_tracking_categories,
            include_archived=True,
        ).tracking_categories

    def accounts(self) -> list:
        """Return the whole chart of accounts, archived ones too (one call)."""
        return self._call("reading the chart of accounts", self.api.get_accounts).accounts

    def invoice_get(self, invoice_id: str):
        """Return one invoice."""
        return self._call(
            f"reading invoice {invoice_id}", self.api.get_invoice, invoice_id
        ).invoices[0]

    def invoices_by_reference(self, references: list[str]) -> list:
        """Return the ACCREC invoices whose Reference is one of these (a job's number)."""
        clauses = [[f"Reference=={text}"] for r in sorted(set(references)) if (text := quoted(r))]
        return [
            invoice
            for where in where_chunks(clauses)
            for invoice in self._pages(
                f"finding {len(references)} invoices by reference",
                self.api.get_invoices,
                "invoices",
                where=f'Type=="ACCREC" AND ({where})',
            )
        ]

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

    def _by_ids(self, what: str, method: Callable[..., Any], ids: list[str], **extra: Any) -> list:
        """Return the records with these ids, in one call per 100 ids; for a thousand ids
        or more, the whole list in pages of 1,000 instead (ten times fewer calls when most
        of the organisation's records are wanted, as in the nightly check)."""
        if len(ids) >= LIST_PAGE_SIZE:
            wanted = set(ids)
            every = self._pages(
                f"reading every one of the {what}",
                method,
                what,
                LIST_PAGE_SIZE,
                include_archived=True,  # an archived one is still there, not missing
            )
            return [r for r in every if getattr(r, what[:-1] + "_id") in wanted]
        found = []
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            answer = self._call(f"reading {len(chunk)} {what}", method, i_ds=chunk, **extra)
            found += getattr(answer, what)
        return found

    def contacts_by_id(self, contact_ids: list[str]) -> list:
        """Return these contacts (their terms included), in one call per 100 ids.

        Archived ones too, and as a page: Xero says where a merged contact went
        (MergedToContactID) only in a paged read or a read by id.
        """
        return self._by_ids(
            "contacts", self.api.get_contacts, contact_ids, include_archived=True, page=1
        )

    def contacts_update(self, changes: dict[str, dict]) -> dict[str, Invalid]:
        """Change contacts' fields ({ContactID: xero-python Contact arguments}), 50 to a
        request; return Xero's refusals by ContactID (summarizeErrors=false: the others
        were changed)."""
        refused: dict[str, Invalid] = {}
        items = list(changes.items())
        for start in range(0, len(items), CREATE_BATCH):
            chunk = items[start : start + CREATE_BATCH]
            made = self._call(
                f"changing {len(chunk)} contacts",
                self.api.update_or_create_contacts,
                Contacts(contacts=[Contact(contact_id=i, **c) for i, c in chunk]),
                summarize_errors=False,
            )
            for (contact_id, _), contact in zip(chunk, made.contacts, strict=True):
                if contact.has_validation_errors:
                    messages = "; ".join(e.message for e in contact.validation_errors)
                    code, fix = refusal(messages)
                    refused[contact_id] = Invalid(
                        f"Xero refused the change: {messages}",
                        system=self.system,
                        code=code,
                        fix=fix,
                    )
        return refused

    def invoices_by_id(self, invoice_ids: list[str]) -> list:
        """Return these invoices, in one call per 100 ids."""
        return self._by_ids("invoices", self.api.get_invoices, invoice_ids)

    def currencies(self) -> list[str]:
        """Return the codes of the currencies the organisation has enabled (one call)."""
        found = self._call("reading the currencies", self.api.get_currencies).currencies
        return sorted(str(getattr(c.code, "value", c.code)) for c in found)

    def credit_notes_by_reference(self, reference: str) -> list:
        """Return the sales credit notes (not voided or deleted) with this Reference."""
        text = quoted(reference)
        where = (
            f'Type=="ACCRECCREDIT" AND Reference=={text} AND Status!="VOIDED" AND Status!="DELETED"'
        )
        return self._call(
            f"finding the credit note {reference}", self.api.get_credit_notes, where=where
        ).credit_notes

    def credit_note_create(self, note, *, idempotency_key: str):
        """Create one credit note (summarizeErrors=false: Xero's refusal comes back on it)."""
        made = self._call(
            f"creating credit note {note.reference}",
            self.api.create_credit_notes,
            CreditNotes(credit_notes=[note]),
            summarize_errors=False,
            unitdp=4,
            idempotency_key=idempotency_key,
        )
        return made.credit_notes[0]

    def credit_note_allocate(self, credit_note_id: str, allocation, *, idempotency_key: str):
        """Allocate a credit note to an invoice; return Xero's allocation."""
        made = self._call(
            f"allocating credit note {credit_note_id}",
            self.api.create_credit_note_allocation,
            credit_note_id,
            Allocations(allocations=[allocation]),
            summarize_errors=False,
            idempotency_key=idempotency_key,
        )
        return made.allocations[0]
