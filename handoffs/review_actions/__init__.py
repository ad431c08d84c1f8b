"""The review-queue actions that handoffs offer; importing this package registers them."""

from handoffs.review_actions import (  # noqa: F401
    approved_invoice,
    checks,
    dismissed,
    duplicates,
    item_codes,
    moves,
    promises,
    quotes,
    reconnected,
    retry,
    values,
)
