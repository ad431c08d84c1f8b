from django.urls import path

from handoffs import views, webhooks

app_name = "handoffs"
urlpatterns = [
    path("webhooks/hubspot/", webhooks.hubspot_webhook, name="hubspot_webhook"),
    path("activity/", views.activity, name="activity"),
    path("activity/runs/<int:pk>/", views.run_detail, name="run_detail"),
]
