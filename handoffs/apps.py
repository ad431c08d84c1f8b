from django.apps import AppConfig


class HandoffsConfig(AppConfig):
    name = "handoffs"

    def ready(self) -> None:
        # Register the flows and the review actions this app offers.
        from connectors.operations.events import outbox_subscribe
        from handoffs import flows, review_actions  # noqa: F401
        from handoffs.inbox import operations_events_forward

        # Operations' changes reach the inbox as soon as they commit; the sweeper
        # forwards any that a crash left behind.
        outbox_subscribe(operations_events_forward)
