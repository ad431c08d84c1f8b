"""The hub's URLs plus GET /bench/trivial/: what the same gunicorn, settings and middleware
answer when the view itself does nothing (bench/intake.py's baseline)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def trivial(request: HttpRequest) -> HttpResponse:
    """Answer 200 with two bytes."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("integration_hub.urls")),
]
