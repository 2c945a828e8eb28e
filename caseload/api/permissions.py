from rest_framework.permissions import BasePermission


class IsAgencyMember(BasePermission):
    """Authenticated, and a member of the agency the request runs in."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and getattr(request._request, "membership", None))
