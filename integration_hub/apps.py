from django.contrib.admin.apps import AdminConfig


class HubAdminConfig(AdminConfig):
    """Django's admin app with the hub's admin site as the default site."""

    default_site = "integration_hub.admin_site.HubAdminSite"
