from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from integration_hub.health import healthz

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="review_queue:list"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("review/", include("review_queue.urls")),
    path("jobs/", include("operations.urls")),
    path("", include("handoffs.urls")),
]
