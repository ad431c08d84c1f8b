"""Who may use the hub's pages and API: one scheme for both.

Office staff (admins, or members of the "Office staff" group) use every page and the
API; only admins (`is_staff`) change configuration: ownership rules, the Xero
connection and invoice settings, and Django's admin (people and groups). A login that
is neither gets a 403 page saying so and naming the admins to ask; an anonymous visitor
is sent to the login page (the API answers 401).
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.utils.functional import SimpleLazyObject
from rest_framework.permissions import BasePermission

STAFF_GROUP = "Office staff"
STAFF_ONLY = (
    "This part of the hub is for office staff. Ask an admin to add you to the "
    f"'{STAFF_GROUP}' group."
)
ADMINS_ONLY = "Only admins can change this. Ask one of them if something here needs changing."


def is_office_staff(user) -> bool:
    """Return whether the user is an admin or in the office staff group."""
    return bool(
        user
        and user.is_authenticated
        and (user.is_staff or user.groups.filter(name=STAFF_GROUP).exists())
    )


def is_admin(user) -> bool:
    """Return whether the user may change the hub's configuration."""
    return bool(user and user.is_authenticated and user.is_active and user.is_staff)


def admins() -> list:
    """Return the people who may change the hub's configuration, for refusals to name."""
    people = get_user_model().objects.filter(is_active=True, is_staff=True)
    return list(people.order_by("first_name", "last_name", "username"))


def _required(check: Callable[[object], bool], refusal: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                # A 403 page in plain words: sending a logged-in person back to the
                # login form would loop.
                raise PermissionDenied(refusal)
            return view(request, *args, **kwargs)

        return guarded

    return decorator


office_staff_required = _required(is_office_staff, STAFF_ONLY)
admin_required = _required(is_admin, ADMINS_ONLY)


class IsOfficeStaff(BasePermission):
    """Allow admins and members of the office staff group."""

    message = STAFF_ONLY

    def has_permission(self, request, view) -> bool:
        return is_office_staff(request.user)


def roles(request) -> dict:
    """Template context: whether the person is office staff, whether an admin, and who the
    admins are (for a logged-in person to ask)."""
    user = request.user
    # Lazy: a partial page that never asks costs no query.
    return {
        "hub_staff": SimpleLazyObject(lambda: is_office_staff(user)),
        "hub_admin": SimpleLazyObject(lambda: is_admin(user)),
        "hub_admins": SimpleLazyObject(lambda: admins() if user.is_authenticated else []),
    }
