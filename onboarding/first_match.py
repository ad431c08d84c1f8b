"""The first match as a run staff can watch, and start again where it stopped.

It reads every customer of each system that lists them (the CRM's companies with their
contacts, the register's customers, the finance system's contacts: pages of 100 to 1,000,
within each vendor's limits), matches them (ownership/bulk_matching.py), then imports the
work in flight (onboarding/in_flight.py). Vendor limits are waited out, never failures.
Its FirstMatch row says how far it has got: the setup page's progress bar and
`manage.py onboard` read it.
"""

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from itertools import combinations

from django.conf import settings
from django.utils import timezone

from connectors.errors import ConnectorError
from connectors.limits import patience
from connectors.registry import connector
from handoffs.reconcile import PATIENCE_SECONDS, patiently
from onboarding.in_flight import work_in_flight_import
from onboarding.models import FirstMatch
from ownership.bulk_matching import Tally, customers_match

logger = logging.getLogger(__name__)
# A run that has said nothing for this long has stopped (its worker died): the next one
# takes over.
QUIET = timedelta(minutes=10)
# The order pairs are matched in: the CRM's customers first, the finance system's last.
ORDER = ("crm", "operations", "finance")


class MatchBusy(Exception):
    """A first match is running already."""


def first_match(
    *, asked_by: str = "", progress: Callable[[FirstMatch], None] = lambda match: None
) -> FirstMatch:
    """Run the first match (continuing one that stopped) and return its row."""
    match = _started(asked_by)
    deadline = time.monotonic() + settings.RECONCILE_MAX_SECONDS
    try:
        with patience(PATIENCE_SECONDS):  # waiting for a place beats reading again
            lists = {}
            for role in ORDER:
                directory = connector(role)
                lists[directory.system] = patiently(
                    lambda d=directory: d.customers_changed(None), deadline=deadline
                )
                match.read += len(lists[directory.system])
                _said(match, progress)
            match.step = "matching"
            done = match.pairs_done
            match.to_match = sum(
                len(lists[a]) for a, b in combinations(lists, 2) if f"{a}>{b}" not in done
            )
            _said(match, progress)

            def matched(tally: Tally, count: int) -> None:
                match.matched, match.proposed, match.pairs_done = (
                    tally.matched,
                    tally.proposed,
                    tally.pairs_done,
                )
                match.looked_at += count
                _said(match, progress)

            tally = customers_match(lists, pairs_done=match.pairs_done, progress=matched)
            match.matched, match.proposed, match.alone = tally.matched, tally.proposed, tally.alone
            match.step = "importing"
            _said(match, progress)
            match.in_flight = patiently(work_in_flight_import, deadline=deadline)
            match.imported = sum(match.in_flight.values())
            match.state, match.step = FirstMatch.State.DONE, "done"
    except ConnectorError as error:
        match.state, match.problem = FirstMatch.State.FAILED, f"{error.message} {error.fix}"
    except Exception as error:
        logger.exception("The first match failed")
        match.state, match.problem = FirstMatch.State.FAILED, f"The hub failed: {error!r}"
    match.finished_at = timezone.now()
    _said(match, progress)
    return match


def _started(asked_by: str) -> FirstMatch:
    """A new run, taking over where a run that stopped got to."""
    running = FirstMatch.objects.filter(state=FirstMatch.State.RUNNING).first()
    if running is not None and running.heartbeat_at > timezone.now() - QUIET:
        raise MatchBusy(f"A first match is running already (started {running.started_at:%H:%M}).")
    if running is not None:
        running.state, running.finished_at = FirstMatch.State.FAILED, timezone.now()
        running.problem = "It stopped before the end (its worker stopped or was restarted)."
        running.save()
    last = FirstMatch.objects.first()
    go_on = last is not None and last.state == FirstMatch.State.FAILED
    return FirstMatch.objects.create(asked_by=asked_by, pairs_done=last.pairs_done if go_on else [])


def _said(match: FirstMatch, progress: Callable[[FirstMatch], None]) -> None:
    match.save()
    progress(match)
