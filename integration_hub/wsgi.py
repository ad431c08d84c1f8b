"""WSGI entry point for gunicorn and runserver.

Webhook requests are served by Django with WEBHOOK_MIDDLEWARE only: a vendor posting a
signed body needs no session, login, CSRF token, messages, htmx or history, and they cost
more than the rest of the request once the store is one statement. Everything else goes
through MIDDLEWARE as usual.
"""

import os

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "integration_hub.settings")
# The prefix of handoffs/urls.py's webhook paths (tests/test_wsgi.py checks they agree).
WEBHOOKS = "/webhooks/"


class MiddlewareHandler(WSGIHandler):
    """Django's WSGI handler with a middleware list of its own."""

    def __init__(self, middleware: list[str]) -> None:
        self.middleware = middleware
        super().__init__()

    def load_middleware(self, is_async: bool = False) -> None:
        # Django builds the chain from settings.MIDDLEWARE, once, at start-up.
        everything = settings.MIDDLEWARE
        settings.MIDDLEWARE = self.middleware
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = everything


pages = get_wsgi_application()
webhooks = MiddlewareHandler(settings.WEBHOOK_MIDDLEWARE)


def application(environ: dict, start_response):
    """Send webhook requests to the lean handler and the rest to the full one."""
    handler = webhooks if environ.get("PATH_INFO", "").startswith(WEBHOOKS) else pages
    return handler(environ, start_response)
