"""Test helpers of the tenancy pages: rows made through the actions, and audit events read back."""

from caseload.audit.models import AuditEvent
from caseload.tenancy import actions
from caseload.tenancy.models import Funder, Membership, Program, Role
from caseload.tenancy.scoping import agency_scope


def make_program(agency, name="Employment Ontario", **data):
    with agency_scope(agency):
        return actions.create_object(Program, agency=agency, actor=None, data={"name": name, **data})


def make_funder(agency, name="Ontario Ministry of Labour", **data):
    with agency_scope(agency):
        return actions.create_object(Funder, agency=agency, actor=None, data={"name": name, **data})


def make_role(agency, name="Intake worker", permissions=("clients.view",)):
    with agency_scope(agency):
        return actions.create_object(Role, agency=agency, actor=None, data={"name": name, "permissions": list(permissions)})


def membership_of(user, agency) -> Membership:
    return Membership.objects.for_agency(agency).select_related("role", "user").get(user=user)


def events(agency, obj=None, action=None):
    """The agency's audit events, newest first (about one object, of one action, when given)."""
    queryset = AuditEvent.objects.for_agency(agency)
    if obj is not None:
        queryset = queryset.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk))
    if action is not None:
        queryset = queryset.filter(action=action)
    return list(queryset)
