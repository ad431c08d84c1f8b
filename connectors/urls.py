from django.urls import path

from connectors import views

app_name = "connectors"
urlpatterns = [
    path("xero/", views.xero_settings, name="xero"),
    path("xero/connect/", views.xero_connect, name="connect"),
    path("xero/callback/", views.xero_callback, name="callback"),
    path("xero/tenants/", views.xero_tenants, name="tenants"),
    path("xero/custom/", views.xero_custom, name="custom"),
    path("xero/<int:pk>/disconnect/", views.xero_disconnect, name="disconnect"),
]
