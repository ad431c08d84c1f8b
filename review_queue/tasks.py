"""Thin Celery tasks for notifications."""

from celery import shared_task

from review_queue.notify import digest_send, item_notify


@shared_task(
    name="review_queue.tasks.notify_new_item",
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_jitter=True,
    max_retries=8,
)
def notify_new_item(item_id: int) -> int:
    return item_notify(item_id=item_id)


@shared_task(name="review_queue.tasks.send_daily_digest")
def send_daily_digest() -> int:
    return digest_send()
