"""Run the dispatcher: forward the outbox and hand stored events to the workers until stopped."""

import signal
import threading

from django.core.management.base import BaseCommand

from handoffs.dispatcher import dispatch_forever


class Command(BaseCommand):
    help = (
        "Forward the operations outbox to the inbox and hand stored inbox events to the "
        "workers (woken by NOTIFY); stop with SIGTERM or ^C."
    )

    def handle(self, *args, **options) -> None:
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        self.stdout.write("Dispatching inbox events to the workers.")
        dispatch_forever(stop=stop)
        self.stdout.write("Dispatcher stopped.")
