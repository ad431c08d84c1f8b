"""The review-queue actions that handoffs offer; importing this package registers them."""

from handoffs.review_actions import duplicates, item_codes, quotes, retry, values  # noqa: F401
