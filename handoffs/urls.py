from django.urls import path

from handoffs import views, webhooks

app_name = "handoffs"
urlpatterns = [
    path("webhooks/hubspot/", webhooks.hubspot_webhook, name="hubspot_webhook"),
    path("webhooks/xero/", webhooks.xero_webhook, name="xero_webhook"),
    path("activity/", views.activity, name="activity"),
    path("runs/", views.run_list, name="run_list"),
    path("runs/<int:pk>/", views.run_detail, name="run_detail"),
    path("runs/<int:pk>/replay/", views.run_replay, name="run_replay"),
    path("drift/", views.drift_report, name="drift"),
    path("drift/check/", views.drift_check, name="drift_check"),
    path("drift/<int:pk>/findings.csv", views.drift_csv, name="drift_csv"),
]
