import pytest
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import events, membership_of


def test_it_lists_the_agencys_programs_and_never_the_other_agencys(as_user, admin, program, their_program):
    response = as_user(admin).get(reverse("tenancy:program_list"))
    assert response.status_code == 200
    assert program.name in response.text
    assert their_program.name not in response.text


def test_it_creates_a_program_and_records_it(as_user, admin, agency, funder):
    response = as_user(admin).post(
        reverse("tenancy:program_create"),
        {"name": "Youth Job Connection", "code": "YJC", "description": "", "funders": [funder.pk], "is_active": "on"},
    )
    assert response.status_code == 302
    created = Program.objects.for_agency(agency).get(name="Youth Job Connection")
    with agency_scope(agency):
        assert list(created.funders.all()) == [funder]
    [event] = events(agency, created, AuditEvent.Action.CREATE)
    assert event.actor == admin
    assert event.changes["name"] == [None, "Youth Job Connection"]
    assert event.changes["code"] == [None, "YJC"]
    assert event.changes["funders"] == [None, [funder.pk]]


def test_it_refuses_a_program_name_already_used_in_the_agency(as_user, admin, agency, program):
    response = as_user(admin).post(reverse("tenancy:program_create"), {"name": program.name.upper(), "is_active": "on"})
    assert response.status_code == 200
    assert "A program with this name already exists." in response.context["form"].errors["name"]
    assert Program.objects.for_agency(agency).count() == 1


def test_the_same_program_name_in_another_agency_is_fine(as_user, admin, agency, their_program):
    response = as_user(admin).post(reverse("tenancy:program_create"), {"name": their_program.name, "is_active": "on"})
    assert response.status_code == 302
    assert Program.objects.for_agency(agency).filter(name=their_program.name).exists()


def test_a_forged_funder_of_another_agency_is_a_form_error_not_a_link(as_user, admin, agency, their_funder):
    response = as_user(admin).post(reverse("tenancy:program_create"), {"name": "Forged", "funders": [their_funder.pk]})
    assert response.status_code == 200
    assert "funders" in response.context["form"].errors
    assert not Program.objects.for_agency(agency).filter(name="Forged").exists()
    with agency_scope(their_funder.agency):
        assert not their_funder.programs.exists()


def test_a_missing_name_is_a_form_error_naming_the_field(as_user, admin, agency):
    response = as_user(admin).post(reverse("tenancy:program_create"), {"name": "", "code": "x" * 41})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"name", "code"}
    assert Program.objects.for_agency(agency).count() == 0


def test_it_changes_a_program_and_records_the_changed_fields(as_user, admin, agency, program, funder):
    response = as_user(admin).post(
        reverse("tenancy:program_edit", args=[program.pk]),
        {"name": "Employment Ontario – Youth", "code": "", "description": "", "funders": [funder.pk]},
    )
    assert response.status_code == 302
    [event] = events(agency, program, AuditEvent.Action.CHANGE)
    assert event.changes == {
        "name": ["Employment Ontario", "Employment Ontario – Youth"],
        "funders": [[], [funder.pk]],
        "is_active": [True, False],
    }


def test_saving_an_unchanged_program_records_nothing(as_user, admin, agency, program):
    as_user(admin).post(reverse("tenancy:program_edit", args=[program.pk]), {"name": program.name, "is_active": "on"})
    assert events(agency, program, AuditEvent.Action.CHANGE) == []


def test_the_program_page_lists_its_staff(as_user, admin, agency, program, caseworker):
    as_user(admin).post(reverse("tenancy:program_staff_add", args=[program.pk]), {"membership": membership_of(caseworker, agency).pk})
    response = as_user(admin).get(reverse("tenancy:program_detail", args=[program.pk]))
    assert response.status_code == 200
    assert caseworker.email in response.text


def test_it_assigns_a_staff_member_to_a_program_and_takes_them_off(as_user, admin, agency, program, caseworker):
    membership = membership_of(caseworker, agency)
    client = as_user(admin)
    response = client.post(reverse("tenancy:program_staff_add", args=[program.pk]), {"membership": membership.pk})
    assert response.status_code == 302
    with agency_scope(agency):
        assert list(membership.programs.all()) == [program]
    [event] = events(agency, membership, AuditEvent.Action.CHANGE)
    assert event.changes == {"programs": [[], [program.pk]]}

    client.post(reverse("tenancy:program_staff_remove", args=[program.pk]), {"membership": membership.pk})
    with agency_scope(agency):
        assert list(membership.programs.all()) == []
    assert events(agency, membership, AuditEvent.Action.CHANGE)[0].changes == {"programs": [[program.pk], []]}


def test_a_staff_member_of_another_agency_cannot_be_added_to_a_program(as_user, admin, agency, program, outsider, other_agency):
    theirs = membership_of(outsider, other_agency)
    response = as_user(admin).post(reverse("tenancy:program_staff_add", args=[program.pk]), {"membership": theirs.pk}, follow=True)
    assert response.status_code == 200
    with agency_scope(agency):
        assert not program.members.exists()
    with agency_scope(other_agency):
        assert not theirs.programs.exists()


def test_adding_to_a_program_answers_only_post(as_user, admin, program):
    assert as_user(admin).get(reverse("tenancy:program_staff_add", args=[program.pk])).status_code == 405


def test_it_deletes_a_program_without_staff_and_records_it(as_user, admin, agency, program):
    response = as_user(admin).post(reverse("tenancy:program_delete", args=[program.pk]))
    assert response.status_code == 302
    assert not Program.objects.for_agency(agency).exists()
    [event] = events(agency, program, AuditEvent.Action.DELETE)
    assert event.changes["name"] == ["Employment Ontario", None]


def test_it_refuses_to_delete_a_program_staff_are_assigned_to(as_user, admin, agency, program, caseworker):
    membership = membership_of(caseworker, agency)
    with agency_scope(agency):
        membership.programs.add(program)
    response = as_user(admin).post(reverse("tenancy:program_delete", args=[program.pk]))
    assert response.status_code == 400
    assert "deactivate the program instead" in response.text
    assert Program.objects.for_agency(agency).filter(pk=program.pk).exists()
    assert events(agency, program, AuditEvent.Action.DELETE) == []


@pytest.mark.parametrize("name", ["program_detail", "program_edit", "program_delete", "program_staff_add", "program_staff_remove"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_agencys_program_is_not_found(as_user, outsider, program, name, method):
    response = getattr(as_user(outsider), method)(reverse(f"tenancy:{name}", args=[program.pk]))
    assert response.status_code == 404
    assert Program.objects.for_agency(program.agency).filter(pk=program.pk, name=program.name).exists()
