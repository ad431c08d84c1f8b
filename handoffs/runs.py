"""Handoff runs: started once per business key, executed by workers, retried or sent to review."""

import logging
import random
import traceback
from datetime import timedelta

import redis
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.base import BusinessEvent
from connectors.calls import calls_recorded
from connectors.errors import (
    AuthExpired,
    ConnectorError,
    Disagreement,
    Invalid,
    Transient,
    Waiting,
)
from handoffs.enqueue import run_enqueue
from handoffs.gathering import gather_enqueue, gather_hold, gather_next, gather_substitute
from handoffs.leases import attempts_lost, holder_gone, lapsed, lease_new, leases_kept
from handoffs.models import HandoffAttempt, HandoffRun, InboundEvent
from handoffs.registry import Handoff, Outcome, handoff_get
from integration_hub import labels
from integration_hub.commit import after_commit
from integration_hub.faults import fault_point
from review_queue.models import ReviewItem
from review_queue.services import review_item_open

logger = logging.getLogger(__name__)
SYSTEM_NAMES = labels.SYSTEMS
UNFINISHED = [HandoffRun.State.PENDING, HandoffRun.State.RETRYING]


class ReplayRefused(Exception):
    """The run cannot be replayed in its current state."""


def handoff_run_start(
    *, handoff: Handoff, happened: BusinessEvent, event: InboundEvent | None = None
) -> tuple[HandoffRun, bool]:
    """Create the run for this business key (enqueued on commit), or return the existing one."""
    key = handoff.key(happened)
    try:
        with transaction.atomic():
            run = HandoffRun.objects.create(
                handoff=handoff.name,
                key=key,
                queue=handoff.queue,
                event=event,
                payload={"object_id": happened.object_id, "type": happened.type, **happened.data},
                record_system=happened.system,
                # A handoff for any record (shared_fields) names the one its event is about.
                record_type=labels.event_noun(happened.type)
                if handoff.record_type == "record"
                else handoff.record_type,
                record_ref=happened.object_id,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:
        return HandoffRun.objects.get(handoff=handoff.name, key=key), False
    if handoff.gather_seconds:
        after_commit(gather_enqueue, run, handoff)
    else:
        after_commit(run_enqueue, run.pk, queue=run.queue)
    return run, True


def backoff_seconds(*, attempt: int, retry_after: float | None = None) -> float:
    """Return the wait before the next try: exponential with jitter, never under Retry-After."""
    cap = settings.HANDOFF_MAX_BACKOFF_SECONDS
    ceiling = min(cap, settings.HANDOFF_BASE_BACKOFF_SECONDS * 2 ** max(attempt - 1, 0))
    delay = random.uniform(ceiling / 2, ceiling)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, cap)


def _claim(run_id: int) -> HandoffRun | None:
    """Take the run for this worker; None if another living worker has it or it is finished."""
    return next(iter(_batch_claim(run_id, None)), None)


def _batch_claim(run_id: int, handoff: Handoff | None) -> list[HandoffRun]:
    """Take the run (with up to batch_size - 1 due runs of a batching handoff) in one locked step.

    A run another worker holds is taken back when that worker's lease lapsed or its
    process is gone; the attempt it left open is closed as lost, and counts. Workers whose
    runs came due together race here: the first takes them all, the others find their
    run taken and do nothing.
    """
    mine = Q(pk=run_id)
    held = HandoffRun.objects.filter(mine, state=HandoffRun.State.RUNNING).first()
    if held is not None and holder_gone(held.lease_holder):
        mine &= Q(lease=held.lease)
    else:
        mine &= Q(state__in=UNFINISHED) | lapsed()
    with transaction.atomic():
        # Its own run is waited for, never skipped: gather_enqueue locks a waiting run for a
        # moment too, and a task that skipped its run then would leave it, and the runs
        # gathered behind it, to the sweeper. Once another claim's lock is gone, a run it
        # took no longer matches.
        rows = list(HandoffRun.objects.select_for_update().filter(mine).values_list("pk", "state"))
        if not rows:
            return []
        if handoff is not None:
            due = Q(state__in=UNFINISHED, next_attempt_at__lte=timezone.now()) | lapsed()
            rows += (
                HandoffRun.objects.select_for_update(skip_locked=True)
                .filter(due, handoff=handoff.name)
                .exclude(pk=run_id)
                .order_by("pk")
                .values_list("pk", "state")[: handoff.batch_size - 1]
            )
        ids = [pk for pk, _ in rows]
        taken_back = [pk for pk, state in rows if state == HandoffRun.State.RUNNING]
        attempts_lost(taken_back)
        HandoffRun.objects.filter(pk__in=taken_back).update(attempts=F("attempts") + 1)
        HandoffRun.objects.filter(pk__in=ids).update(
            state=HandoffRun.State.RUNNING,
            started_at=timezone.now(),
            next_attempt_at=None,
            **lease_new(),
        )
    runs = {r.pk: r for r in HandoffRun.objects.filter(pk__in=ids)}
    return [runs[pk] for pk in ids]


def _attempt_start(run: HandoffRun) -> HandoffAttempt:
    return HandoffAttempt.objects.create(
        run=run, number=run.attempt_log.count() + 1, outcome=HandoffAttempt.Outcome.RUNNING
    )


def _classified(error: Exception, system: str) -> Exception:
    """The hub's own passing troubles as Transient (tried again), not as bugs."""
    if isinstance(error, SoftTimeLimitExceeded):
        return Transient("The handoff took too long.", system=system)
    if isinstance(error, IntegrityError):  # another worker wrote the same record at once
        return Transient(
            f"Another handoff changed the same record at once ({error}).",
            system="hub",
            code="conflict",
        )
    if isinstance(error, OperationalError | InterfaceError):
        return Transient(
            f"The hub lost its database connection for a moment ({error}).",
            system="hub",
            code="database",
        )
    if isinstance(error, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return Transient(
            f"The hub's shared store (Redis) did not answer ({error}).", system="hub", code="redis"
        )
    return error


def _perform(handoff: Handoff, runs: list[HandoffRun]) -> list[Outcome | Exception]:
    """Run the handoff for these runs; an exception stands for the run it belongs to."""
    try:
        if len(runs) > 1:
            results = handoff.batch(runs)
        else:
            results = [handoff.perform(runs[0])]
    except Exception as error:  # every run of the batch shares it
        results = [error] * len(runs)
    results = [
        _classified(r, runs[0].record_system) if isinstance(r, Exception) else r for r in results
    ]
    for result in results:
        if isinstance(result, Exception) and not isinstance(result, ConnectorError):
            logger.error("Handoff %s failed unexpectedly", handoff.name, exc_info=result)
        if isinstance(result, Transient) and result.code == "database":
            connection.close()  # a new connection for writing the outcome
    return results


def handoff_run_execute(*, run_id: int, gather: bool = False) -> HandoffRun | None:
    """Execute a run once (with due companions, if the handoff batches): done, skipped,
    retry later, or a review item. Never silent. `gather` (a worker's task): the batch may
    be held a little for runs still arriving (gathering.py)."""
    name = HandoffRun.objects.filter(pk=run_id).values_list("handoff", flat=True).first()
    if name is None:
        return None
    handoff = handoff_get(name)
    batching = handoff.batch is not None and handoff.batch_size > 1
    if batching and gather and gather_hold(run_id, handoff):
        return None
    runs = _batch_claim(run_id, handoff if batching else None)
    if not runs and batching and handoff.gather_seconds:
        # Its run went in another batch; the runs that gathered behind it did not.
        substitute = gather_substitute(handoff)
        runs = _batch_claim(substitute, handoff) if substitute is not None else []
    if not runs:
        return None
    attempts = [_attempt_start(r) for r in runs]
    with calls_recorded() as calls, leases_kept([r.pk for r in runs], runs[0].lease):
        results = _perform(handoff, runs)
    for each, attempt, result in zip(runs, attempts, results, strict=True):
        if isinstance(result, Exception):
            _failed(each, attempt, result, calls)
        else:
            _finished(each, attempt, result, calls)
    if batching and len(runs) == handoff.batch_size:
        # After this batch, not beside it: the next finds what this one read (tax rates,
        # accounts, contacts) kept, instead of reading it at the same time.
        gather_next(handoff)
    fault_point(f"after_commit:{handoff.name}")
    return runs[0]


def _settle(run: HandoffRun, attempt: HandoffAttempt, **changes) -> bool:
    """Save the run's end, only if this worker still holds it; return whether it did.

    A worker presumed dead (its lease lapsed) may still be alive: its result then gives
    way to the attempt of the worker that took the run back.
    """
    changes |= {"lease": "", "lease_holder": "", "lease_expires_at": None}
    held = HandoffRun.objects.filter(pk=run.pk, lease=run.lease).update(**changes)
    if not held:
        logger.warning("Run %s was taken back while this worker ran it; result dropped", run.pk)
        attempt.outcome = HandoffAttempt.Outcome.LOST
        attempt.message = f"Another worker took the run back first. {attempt.message}"
    attempt.save()
    for name, value in changes.items():
        setattr(run, name, value)
    return bool(held)


@transaction.atomic
def _finished(run: HandoffRun, attempt: HandoffAttempt, outcome: Outcome, calls: list) -> None:
    finished_at = timezone.now()
    attempt.outcome = (
        HandoffAttempt.Outcome.SKIPPED if outcome.skipped else HandoffAttempt.Outcome.DONE
    )
    attempt.message, attempt.finished_at, attempt.calls = outcome.summary, finished_at, calls
    _settle(
        run,
        attempt,
        state=HandoffRun.State.SKIPPED if outcome.skipped else HandoffRun.State.DONE,
        summary=outcome.summary,
        result=outcome.result,
        finished_at=finished_at,
        effect_sent_at=None,
        updated_at=finished_at,
    )


@transaction.atomic
def _failed(run: HandoffRun, attempt: HandoffAttempt, error: Exception, calls: list) -> None:
    attempt.finished_at = timezone.now()
    attempt.calls = calls
    attempt.message = getattr(error, "message", None) or str(error) or type(error).__name__
    attempt.error_code = getattr(error, "code", "bug")
    attempt.detail = _detail(error)
    changes: dict = {"finished_at": attempt.finished_at, "updated_at": attempt.finished_at}
    if isinstance(error, Waiting):
        # Waiting is not failing: no attempt is spent and no item is opened.
        delay = (error.retry_after or settings.HANDOFF_WAIT_SECONDS) + random.uniform(0, 1)
        changes |= {
            "state": HandoffRun.State.RETRYING,
            "summary": f"{attempt.message} Going on in {delay:.0f} s.",
        }
        attempt.outcome = HandoffAttempt.Outcome.WAITED
    elif _decided_meanwhile(error, attempt):
        delay = 0.0
        changes |= {
            "state": HandoffRun.State.RETRYING,
            "summary": "A person answered its review item while it ran: going on with that.",
        }
        attempt.outcome = HandoffAttempt.Outcome.RETRY
    elif isinstance(error, Transient) and run.attempts + 1 < settings.HANDOFF_MAX_ATTEMPTS:
        delay = backoff_seconds(
            attempt=run.attempts + 1, retry_after=getattr(error, "retry_after", None)
        )
        changes |= {
            "state": HandoffRun.State.RETRYING,
            "attempts": run.attempts + 1,
            "summary": f"{attempt.message} Trying again in {delay:.0f} s.",
        }
        attempt.outcome = HandoffAttempt.Outcome.RETRY
    else:
        run.attempts += 1
        changes |= {
            "state": HandoffRun.State.NEEDS_REVIEW,
            "attempts": run.attempts,
            "review_item": _review_item_for(run, error),
            "summary": attempt.message,
        }
        attempt.outcome = HandoffAttempt.Outcome.FAILED
        delay = None
    if delay is not None:
        changes["next_attempt_at"] = timezone.now() + timedelta(seconds=delay)
    if _settle(run, attempt, **changes) and delay is not None:
        after_commit(run_enqueue, run.pk, queue=run.queue, countdown=delay)


def _decided_meanwhile(error: Exception, attempt: HandoffAttempt) -> bool:
    """Whether a person closed this question's item while the attempt ran (it asked, they
    answered before it could wait on the item): the run goes again with their answer
    instead of asking them again."""
    root = getattr(error, "root", "") if isinstance(error, Disagreement) else ""
    return bool(root) and (
        ReviewItem.objects.filter(root_key=root, resolved_at__gte=attempt.started_at)
        .exclude(status=ReviewItem.Status.OPEN)
        .exists()
    )


def _detail(error: Exception) -> str:
    """Return the vendor's raw answer for a classified error, the traceback for a bug."""
    if isinstance(error, ConnectorError):
        return error.detail
    return "".join(traceback.format_exception(error))


def connection_item_open(error: AuthExpired) -> ReviewItem:
    """Open (or add to) the one item for a system (or organisation) the hub cannot reach."""
    system = SYSTEM_NAMES.get(error.system, error.system)
    names = " and ".join(error.details.get("organisations", []))
    return review_item_open(
        root_key=f"connection:{error.system}:{error.details.get('root') or error.code}",
        kind=ReviewItem.Kind.CONNECTION,
        system=error.system,
        title=f"Reconnect {system}" + (f": {names}" if names else ""),
        reason=f"{error.message} Handoffs that need {system} are waiting.",
        action=f"{error.fix} Every waiting handoff then resumes.",
        vendor_error=_detail(error),
        details=error.details,
    )


def _review_item_for(run: HandoffRun, error: Exception) -> ReviewItem:
    """Open (or add to) the one review item for this failure's root cause."""
    handoff = handoff_get(run.handoff)
    record = {
        "record_type": run.record_type,
        "record_ref": run.record_ref,
        "record_label": run.record_label
        or labels.record_phrase(run.record_system, run.record_type, run.record_ref),
    }
    detail = _detail(error)
    if not isinstance(error, ConnectorError):
        return review_item_open(
            root_key=f"{run.handoff}:{run.record_type}:{run.record_ref}:bug",
            kind=ReviewItem.Kind.FAILED,
            system="hub",
            title=f"{handoff.label} failed for {record['record_label']}",
            reason=f"The hub hit an unexpected error ({type(error).__name__}: {error}). "
            "This is a fault in the hub, not in your data.",
            action="Tell the hub's maintainer (the detail below helps them). Once fixed, "
            "press Retry.",
            vendor_error=detail,
            **record,
        )
    system = SYSTEM_NAMES.get(error.system, error.system)
    if isinstance(error, AuthExpired):
        return connection_item_open(error)
    if isinstance(error, Transient):
        return review_item_open(
            root_key=f"unavailable:{error.system}",
            kind=ReviewItem.Kind.UNAVAILABLE,
            system=error.system,
            title=f"{system} is not answering",
            reason=f"{error.message} The hub tried {run.attempts} times and stopped.",
            action=f"Check that {system} is up, then press Retry: every handoff waiting on "
            "this item runs again.",
            vendor_error=detail,
        )
    if isinstance(error, Disagreement):
        # One item per root (record and field by default): a later one updates it.
        return review_item_open(
            root_key=error.root
            or f"{error.kind}:{run.record_type}:{run.record_ref}:{error.details.get('field')}",
            kind=error.kind,
            system=error.system,
            title=f"{error.title}: {record['record_label']}",
            reason=error.message,
            action=error.fix,
            details=error.details,
            **record,
        )
    if isinstance(error, Invalid) and error.root:
        # One cause many records share (a setting): one item, whichever record met it first.
        return review_item_open(
            details=error.details,
            root_key=error.root,
            kind=ReviewItem.Kind.MISSING_DATA,
            system=error.system,
            title=error.title or f"{handoff.label}: {system} refused the data",
            reason=error.message,
            action=error.fix or "Fix the cause, then press Retry.",
            vendor_error=detail,
        )
    kind = ReviewItem.Kind.MISSING_DATA if isinstance(error, Invalid) else ReviewItem.Kind.FAILED
    return review_item_open(
        details=error.details,
        root_key=f"{run.handoff}:{run.record_type}:{run.record_ref}:{error.code}",
        kind=kind,
        system=error.system,
        title=f"{handoff.label}: {record['record_label']}",
        reason=error.message,
        action=error.fix or "Check the record, then press Retry.",
        vendor_error=detail,
        **record,
    )


@transaction.atomic
def handoff_runs_retry(*, item: ReviewItem) -> int:
    """Send every run waiting on this item back to the workers; return how many."""
    runs = list(
        HandoffRun.objects.select_for_update().filter(
            review_item=item, state=HandoffRun.State.NEEDS_REVIEW
        )
    )
    for run in runs:
        run.state, run.attempts, run.review_item = HandoffRun.State.PENDING, 0, None
        run.next_attempt_at = timezone.now()
        run.summary = "Retry requested from the review queue."
        run.save()
        after_commit(run_enqueue, run.pk, queue=run.queue)
    return len(runs)


@transaction.atomic
def handoff_run_replay(*, run: HandoffRun) -> HandoffRun:
    """Run a finished handoff again; its effects are idempotent, so nothing is made twice."""
    run = HandoffRun.objects.select_for_update().get(pk=run.pk)
    if not run.is_finished:
        raise ReplayRefused(
            "Only finished runs can be replayed; a run waiting on a review item is retried "
            "from that item."
        )
    run.state, run.attempts, run.next_attempt_at = HandoffRun.State.PENDING, 0, timezone.now()
    run.summary = "Replay requested."
    run.save()
    after_commit(run_enqueue, run.pk, queue=run.queue)
    return run


@transaction.atomic
def handoff_runs_dismiss(*, item: ReviewItem, by, reason: str) -> str:
    """End the runs waiting on an item a person dismissed, saying who and why."""
    who = by.get_username() if by else "the hub"
    count = HandoffRun.objects.filter(review_item=item, state=HandoffRun.State.NEEDS_REVIEW).update(
        state=HandoffRun.State.DISMISSED,
        summary=f"Dismissed by {who}: {reason}",
        finished_at=timezone.now(),
    )
    if not count:
        return ""
    return f"{count} handoff{'s' if count != 1 else ''} waiting on it ended."
