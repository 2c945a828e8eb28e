from types import SimpleNamespace

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from caseload.api.permissions import HasAgencyPerm, IsAgencyMember
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope

factory = APIRequestFactory()


def request_as(user, agency, method="get"):
    request = getattr(factory, method)("/api/v1/anything/")
    with agency_scope(agency):
        request.membership = Membership.objects.for_agency(agency).select_related("role").filter(user=user).first()
    request.user = user
    drf_request = Request(request)
    drf_request.user = user
    return drf_request


class ViewWithWrites:
    def get(self): ...
    def post(self): ...


class ReadOnlyView:
    def get(self): ...


@pytest.mark.django_db
class TestHasAgencyPerm:
    def test_reads_need_the_view_permission(self, agency, auditor, caseworker):
        permission = HasAgencyPerm(view="audit.view")()
        assert permission.has_permission(request_as(auditor, agency), ReadOnlyView())
        assert not permission.has_permission(request_as(caseworker, agency), ReadOnlyView())

    def test_without_a_view_permission_any_member_reads(self, agency, caseworker, outsider):
        permission = HasAgencyPerm(manage="agency.manage")()
        assert permission.has_permission(request_as(caseworker, agency), ViewWithWrites())
        assert not permission.has_permission(request_as(outsider, agency), ViewWithWrites())

    def test_writes_need_the_manage_permission(self, agency, admin, auditor):
        permission = HasAgencyPerm(manage="agency.manage")()
        assert permission.has_permission(request_as(admin, agency, "post"), ViewWithWrites())
        assert not permission.has_permission(request_as(auditor, agency, "post"), ViewWithWrites())

    def test_without_a_manage_permission_no_write_is_allowed(self, agency, admin):
        permission = HasAgencyPerm(view="audit.view")()
        assert not permission.has_permission(request_as(admin, agency, "post"), ViewWithWrites())
        # A method the view does not have is let through, so that DRF answers 405.
        assert permission.has_permission(request_as(admin, agency, "post"), ReadOnlyView())

    def test_it_is_an_agency_membership_check_first(self, agency, admin):
        assert issubclass(HasAgencyPerm(view="audit.view"), IsAgencyMember)
        anonymous = SimpleNamespace(user=None, _request=SimpleNamespace(membership=None), method="GET")
        assert not HasAgencyPerm()().has_permission(anonymous, ReadOnlyView())
