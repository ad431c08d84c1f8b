from django.apps import AppConfig


class ReviewQueueConfig(AppConfig):
    name = "review_queue"
    verbose_name = "Review queue"
