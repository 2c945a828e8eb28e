import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Funder
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import events, make_program


def test_it_lists_the_agencys_funders_and_never_the_other_agencys(as_user, admin, funder, their_funder):
    response = as_user(admin).get(reverse("tenancy:funder_list"))
    assert response.status_code == 200
    assert funder.name in response.text
    assert their_funder.name not in response.text


def test_it_creates_a_funder_and_records_it(as_user, admin, agency):
    response = as_user(admin).post(
        reverse("tenancy:funder_create"), {"name": "IRCC", "code": "ORG-123", "contact_email": "reports@ircc.example.org", "is_active": "on"}
    )
    assert response.status_code == 302
    created = Funder.objects.for_agency(agency).get(name="IRCC")
    [event] = events(agency, created, AuditEvent.Action.CREATE)
    assert event.changes["code"] == [None, "ORG-123"]
    assert event.changes["contact_email"] == [None, "reports@ircc.example.org"]


def test_a_bad_email_and_a_duplicate_name_are_form_errors(as_user, admin, agency, funder):
    response = as_user(admin).post(reverse("tenancy:funder_create"), {"name": funder.name, "contact_email": "not an email"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "contact_email"}
    assert Funder.objects.for_agency(agency).count() == 1


def test_the_same_funder_name_in_another_agency_is_fine(as_user, admin, agency, their_funder):
    response = as_user(admin).post(reverse("tenancy:funder_create"), {"name": their_funder.name})
    assert response.status_code == 302


def test_it_changes_a_funder_and_records_the_changed_fields(as_user, admin, agency, funder):
    as_user(admin).post(reverse("tenancy:funder_edit", args=[funder.pk]), {"name": funder.name, "code": "EO-9", "is_active": "on"})
    [event] = events(agency, funder, AuditEvent.Action.CHANGE)
    assert event.changes == {"code": ["", "EO-9"]}


def test_deleting_a_funder_takes_it_off_its_programs_and_records_both(as_user, admin, agency, funder):
    program = make_program(agency, funders=[funder])
    response = as_user(admin).post(reverse("tenancy:funder_delete", args=[funder.pk]))
    assert response.status_code == 302
    assert not Funder.objects.for_agency(agency).exists()
    [deleted] = events(agency, funder, AuditEvent.Action.DELETE)
    assert deleted.changes["name"] == [funder.name, None]
    [changed] = events(agency, program, AuditEvent.Action.CHANGE)
    assert changed.changes == {"funders": [[funder.pk], []]}
    with agency_scope(agency):
        assert not program.funders.exists()


@pytest.mark.parametrize("name", ["funder_edit", "funder_delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_agencys_funder_is_not_found(as_user, outsider, funder, name, method):
    response = getattr(as_user(outsider), method)(reverse(f"tenancy:{name}", args=[funder.pk]), {"name": "Taken over"})
    assert response.status_code == 404
    assert Funder.objects.for_agency(funder.agency).get(pk=funder.pk).name == funder.name
