"""The Celery app: tasks are found in each Django app's tasks.py."""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")

app = Celery("integration_hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def heartbeat_at_start(sender, **kwargs) -> None:
    """Report in at once, so /healthz is green without waiting for beat's first beat."""
    sender.app.send_task("handoffs.tasks.heartbeat")
