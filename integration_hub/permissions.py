"""Who may use the hub's pages and API."""

from rest_framework.permissions import BasePermission

STAFF_GROUP = "Office staff"


def is_office_staff(user) -> bool:
    """Return whether the user is an admin or in the office staff group."""
    return bool(
        user
        and user.is_authenticated
        and (user.is_staff or user.groups.filter(name=STAFF_GROUP).exists())
    )


class IsOfficeStaff(BasePermission):
    """Allow admins and members of the office staff group."""

    message = "Only the hub's staff may do this. Ask an admin to add you to 'Office staff'."

    def has_permission(self, request, view) -> bool:
        return is_office_staff(request.user)
