from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from integration_hub.health import healthz

urlpatterns = [
    # First: the webhooks are the busiest paths, and Django tries the patterns in order.
    path("", include("handoffs.urls")),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("api/", include("integration_hub.api")),
    path("review/", include("review_queue.urls")),
    path("jobs/", include("operations.urls")),
    path("ownership/", include("ownership.urls")),
    path("settings/", include("connectors.urls")),
    path("setup/", include("onboarding.urls")),
    path("", include("dashboard.urls")),
]
