"""Who may call an endpoint: a member of the request's agency whose role holds the right code.

Objects are already limited to the request's agency by the viewsets' querysets (404 outside it);
these classes decide, inside the agency, between the answer and a 403.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsAgencyMember(BasePermission):
    """Authenticated, and a member of the agency the request runs in."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and getattr(request._request, "membership", None))


def HasAgencyPerm(view: str | None = None, manage: str | None = None) -> type[BasePermission]:
    """A permission class: reads need ``view`` (any member when None), writes need ``manage``.

    ``permission_classes = [HasAgencyPerm(view="audit.view")]`` on a read-only viewset;
    ``[HasAgencyPerm(manage="agency.manage")]`` for "any member reads, administrators write".
    With ``manage`` None no write is allowed: a method the view does not implement still reaches
    DRF so it answers 405, and a write the view does implement is refused (403).
    """
    view_code, manage_code = view, manage

    class HasAgencyPermission(IsAgencyMember):
        view_perm = view_code
        manage_perm = manage_code

        def has_permission(self, request, view) -> bool:
            if not super().has_permission(request, view):
                return False
            membership = request._request.membership
            if request.method in SAFE_METHODS:
                return self.view_perm is None or membership.has_perm(self.view_perm)
            if self.manage_perm is None:
                return getattr(view, request.method.lower(), None) is None
            return membership.has_perm(self.manage_perm)

    return HasAgencyPermission
