from django.urls import path

from connectors import views
from connectors.hubspot import views as hubspot
from connectors.xero import views as xero

app_name = "connectors"
urlpatterns = [
    path("xero/", views.xero_settings, name="xero"),
    path("xero/connect/", views.xero_connect, name="connect"),
    path("xero/tracking/", views.xero_tracking, name="tracking"),
    path("xero/tracking/<int:pk>/remove/", views.xero_tracking_remove, name="tracking_remove"),
    path("xero/callback/", views.xero_callback, name="callback"),
    path("xero/tenants/", views.xero_tenants, name="tenants"),
    path("xero/custom/", views.xero_custom, name="custom"),
    path("xero/<int:pk>/disconnect/", views.xero_disconnect, name="disconnect"),
    path("xero/default/", xero.xero_default, name="default"),
    path("xero/routes/", xero.xero_route_add, name="route_add"),
    path("xero/routes/<int:pk>/delete/", xero.xero_route_delete, name="route_delete"),
    path("hubspot/", hubspot.hubspot_settings, name="hubspot"),
    path("hubspot/token/", hubspot.hubspot_token, name="hubspot_token"),
    path("hubspot/install/", hubspot.hubspot_install, name="hubspot_install"),
    path("hubspot/callback/", hubspot.hubspot_callback, name="hubspot_callback"),
    path("hubspot/properties/", hubspot.hubspot_properties, name="hubspot_properties"),
    path("hubspot/disconnect/", hubspot.hubspot_disconnect, name="hubspot_disconnect"),
]
