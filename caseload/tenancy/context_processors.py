from django.http import HttpRequest

from caseload.tenancy.permissions import agency_perms


def agency(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    return {
        "current_agency": getattr(request, "agency", None),
        "current_membership": membership,
        "memberships": getattr(request, "memberships", []),
        "agency_perms": agency_perms(membership),
    }
