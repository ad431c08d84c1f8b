"""The REST API's routes, schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from handoffs.api import RunViewSet
from operations.api import JobViewSet
from review_queue.api import ReviewItemViewSet

router = DefaultRouter()
router.register("review-items", ReviewItemViewSet, basename="review-item")
router.register("runs", RunViewSet, basename="run")
router.register("jobs", JobViewSet, basename="job")

urlpatterns = [
    path("", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
]
