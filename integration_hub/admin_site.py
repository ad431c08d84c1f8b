"""Django's admin (people, groups, API tokens) under the hub's permission scheme."""

from functools import update_wrapper

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from integration_hub.permissions import ADMINS_ONLY, is_admin


class HubAdminSite(admin.AdminSite):
    """The admin for admins only: the hub's login page for visitors, a 403 page for the rest."""

    site_header = "Integration hub administration"
    site_title = "Integration hub admin"

    def has_permission(self, request) -> bool:
        return is_admin(request.user)

    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not self.has_permission(request):
                raise PermissionDenied(ADMINS_ONLY)
            return checked(request, *args, **kwargs)

        return update_wrapper(guarded, checked)

    def login(self, request, extra_context=None):
        """Send visitors to the hub's one login page; admins who are logged in to the index."""
        if not request.user.is_authenticated:
            return redirect_to_login(request.GET.get("next") or reverse("admin:index"))
        if not self.has_permission(request):
            raise PermissionDenied(ADMINS_ONLY)
        return super().login(request, extra_context)
