"""Polling the finance system for what it sends no webhook for (payments, quotes), and as a
net under its webhooks: what is found is stored in the inbox like a delivery."""

from connectors.registry import finance
from handoffs.inbox import polled_events_store
from handoffs.runs import connection_item_open


def finance_poll() -> dict[str, int]:
    """Poll every connected organisation; a refused connection becomes its one item."""
    money = finance()
    return money.poll(
        store=lambda events: polled_events_store(source=money.system, events=events),
        refused=connection_item_open,
    )
