from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "handoffs"

    def ready(self) -> None:
        # Register the flows and the review actions this app offers.
        from handoffs import flows, review_actions  # noqa: F401
