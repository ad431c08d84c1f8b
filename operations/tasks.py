"""Thin Celery tasks for the job register."""

from celery import shared_task

from operations.imports import import_run
from operations.models import IMPORT_STALE

# A 10,000-row file takes seconds; the limit leaves room for a slow database.
IMPORT_SECONDS = 600


@shared_task(
    bind=True,
    name="operations.tasks.import_apply",
    soft_time_limit=IMPORT_SECONDS,
    time_limit=IMPORT_SECONDS + 60,
    max_retries=None,
)
def import_apply(self, import_id: int, skip_bad: bool, user_id: int | None) -> None:
    # Another worker has it (a second delivery of this task): look again once it would
    # count as stalled, and take it over then if it is.
    if not import_run(pending_id=import_id, skip_bad=skip_bad, by_id=user_id):
        raise self.retry(countdown=IMPORT_STALE.total_seconds() + 1)
