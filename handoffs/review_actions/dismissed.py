"""Dismissed means closed: the handoffs waiting on a dismissed item end with it."""

from handoffs.runs import handoff_runs_dismiss
from review_queue.actions import dismissal_subscribe

dismissal_subscribe(handoff_runs_dismiss)
