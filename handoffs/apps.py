from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "handoffs"

    def ready(self) -> None:
        # Register the flows and the review actions this app offers.
        from handoffs import flows, review_actions  # noqa: F401
        from handoffs.inbox import operations_events_forward
        from operations.events import events_subscribe

        # Operations' changes reach the inbox as soon as they commit; the sweeper
        # forwards any that a crash left behind.
        events_subscribe(operations_events_forward)
