"""The world around a fault scenario's hub: its staff login, its Xero connection, the
CRM's deals, and requests signed as HubSpot signs them."""

import time
import uuid
from datetime import timedelta

import requests
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from connectors.models import XeroConnection
from integration_hub.permissions import STAFF_GROUP
from operations.models import Job

LINES = [("Call-out", "1", "165", "CALLOUT"), ("Labour (hours)", "2", "110", "LABOUR-HR")]


def sessions_from(ports: set[int]) -> int:
    """How many database sessions are still open from these client ports."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE client_port = ANY(%s)", [list(ports)]
        )
        return cursor.fetchone()[0]


def customer_links(job: Job) -> dict[str, str]:
    """The job's customer's ids in each system: {system: id}."""
    from ownership.models import Link

    record = Link.objects.get(
        system="operations", record_type="customer", external_id=str(job.customer_id)
    ).record_id
    return dict(Link.objects.filter(record_id=record).values_list("system", "external_id"))


def post_marked(url: str, body: bytes, mark: str) -> int:
    """POST a signed delivery carrying a mark header, so its stored row can be found."""
    from connectors.hubspot.webhooks import signature_v3

    stamp = str(int(time.time() * 1000))
    headers = {
        "Content-Type": "application/json",
        "X-HubSpot-Signature-v3": signature_v3(
            secret=settings.HUBSPOT_CLIENT_SECRET,
            method="POST",
            uri=url,
            body=body,
            timestamp=stamp,
        ),
        "X-HubSpot-Request-Timestamp": stamp,
        "X-Fault-Mark": mark,
    }
    try:
        return requests.post(url, data=body, headers=headers, timeout=5).status_code
    except requests.RequestException:
        return 0


def staff_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user = get_user_model().objects.create_user("fault-staff")
    user.groups.add(Group.objects.get_or_create(name=STAFF_GROUP)[0])
    return Token.objects.create(user=user).key


def xero_connect(store) -> XeroConnection:
    """Connect the hub to the sandbox's first organisation, as an admin would."""
    tokens = store.issue_tokens()
    return XeroConnection.objects.create(
        tenant_id=next(iter(store.organisations)),
        tenant_name="Demo Trades Pty Ltd",
        access_token=tokens["access_token"],
        refresh_token=tokens["refresh_token"],
        expires_at=timezone.now() + timedelta(minutes=30),
        scopes="offline_access",
    )


def deal_create(store) -> str:
    """A company, a contact, a deal and its lines; names differ enough not to look alike."""
    token = uuid.uuid4().hex[:10]
    company = store.create(
        "companies",
        {
            "name": f"Customer {token} Pty Ltd",
            "domain": f"{token}.example",
            "address": f"{int(token[:3], 16)} Test St",
            "city": "Sydney",
            "state": "NSW",
            "zip": "2000",
            "country": "Australia",
        },
    )
    contact = store.create(
        "contacts",
        {"firstname": "Alex", "lastname": token, "email": f"accounts@{token}.example"},
        associations=[("companies", company["id"])],
    )
    deal = store.create(
        "deals",
        {
            "dealname": f"Job for {token}",
            "dealstage": "contractsent",
            "pipeline": "default",
            "amount": "385",
            "closedate": "2026-12-15",
            "deal_currency_code": "AUD",
        },
        associations=[("companies", company["id"]), ("contacts", contact["id"])],
    )
    for name, quantity, price, sku in LINES:
        store.create(
            "line_items",
            {
                "name": name,
                "quantity": quantity,
                "price": price,
                "hs_sku": sku,
                "amount": f"{float(quantity) * float(price):.2f}",
            },
            associations=[("deals", deal["id"])],
        )
    return deal["id"]
