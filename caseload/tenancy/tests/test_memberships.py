"""The memberships every request reads (CurrentAgencyMiddleware): the user's active ones, with agency and role."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from caseload.tenancy.middleware import active_memberships
from caseload.tenancy.models import Membership
from caseload.testing.factories import make_agency, make_member

pytestmark = pytest.mark.django_db


def _fresh(user):
    """The user as a new request sees them (no memberships read yet)."""
    user.__dict__.pop("_caseload_memberships", None)
    return user


def test_a_request_reads_the_users_active_memberships_with_agency_and_role_in_one_statement_compiled_once():
    zeta, alpha, gone = make_agency("Zeta Services"), make_agency("Alpha Settlement"), make_agency("Beta Outreach")
    member = make_member(zeta, "Caseworker")
    user = member.user
    make_member(alpha, "Administrator", email=user.email)
    former = make_member(gone, "Caseworker", email=user.email)
    Membership.objects.with_scopes_disabled().filter(pk=former.pk).update(is_active=False)
    someone_else = make_member(alpha, "Caseworker").user
    connections["default"].__dict__.pop("_caseload_templates", None)

    with CaptureQueriesContext(connection) as queries:
        found = active_memberships(_fresh(user))
        read = [(m.agency.name, m.role.name) for m in found]
    assert len(queries) == 1
    assert read == [("Alpha Settlement", "Administrator"), ("Zeta Services", "Caseworker")]
    expected = Membership.objects.with_scopes_disabled().filter(user=user, is_active=True).order_by("agency__name")
    assert [m.pk for m in found] == [m.pk for m in expected]

    # Another user: the same statement, another id; nothing of the first user's.
    assert [(m.agency.name, m.user_id) for m in active_memberships(_fresh(someone_else))] == [("Alpha Settlement", someone_else.pk)]
    assert list(connections["default"].__dict__["_caseload_templates"]) == ["active_memberships"]
    # Read once per request: asked again, the user's list as read.
    with CaptureQueriesContext(connection) as again:
        assert active_memberships(user) is found
    assert len(again) == 0


def test_anonymous_users_have_no_memberships():
    assert active_memberships(AnonymousUser()) == []
