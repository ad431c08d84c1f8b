"""Thin Celery tasks for the job register."""

from celery import shared_task

from operations.imports import import_run

# A 10,000-row file takes seconds; the limit leaves room for a slow database.
IMPORT_SECONDS = 600


@shared_task(
    name="operations.tasks.import_apply",
    soft_time_limit=IMPORT_SECONDS,
    time_limit=IMPORT_SECONDS + 60,
)
def import_apply(import_id: int, skip_bad: bool, user_id: int | None) -> None:
    import_run(pending_id=import_id, skip_bad=skip_bad, by_id=user_id)
