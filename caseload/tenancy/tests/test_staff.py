import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.messaging.models import OutboundMessage
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import events, make_program, membership_of
from caseload.testing.factories import make_member, role


def staff_data(agency, **changes):
    return {"email": "nadia.haddad@example.org", "full_name": "Nadia Haddad", "role": role(agency, "Caseworker").pk, "title": "", **changes}


def membership_data(membership, **changes):
    with agency_scope(membership.agency):
        programs = [p.pk for p in membership.programs.all()]
    data = {
        "role": membership.role_id,
        "programs": programs,
        "manager": membership.manager_id or "",
        "title": membership.title,
        "is_active": "on" if membership.is_active else "",
        **changes,
    }
    return {k: v for k, v in data.items() if v is not None}


def test_it_lists_the_agencys_staff_with_their_role_programs_and_manager(as_user, admin, agency, caseworker, outsider):
    program = make_program(agency, "Youth Job Connection")
    membership = membership_of(caseworker, agency)
    with agency_scope(agency):
        membership.programs.add(program)
        membership.manager = membership_of(admin, agency)
        membership.save()
    response = as_user(admin).get(reverse("tenancy:staff_list"))
    assert response.status_code == 200
    assert caseworker.email in response.text
    assert "Youth Job Connection" in response.text
    assert outsider.email not in response.text


def test_the_staff_list_takes_the_same_queries_for_many_staff(as_user, admin, agency):
    client = as_user(admin)
    boss = membership_of(admin, agency)

    def add_staff(count):
        for n in range(count):
            member = make_member(agency, "Caseworker", manager=boss)
            with agency_scope(agency):
                member.programs.add(make_program(agency, f"Program {member.pk}-{n}"))

    def queries_to_list():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("tenancy:staff_list"))
        return len(queries), len(response.context["table"].page.object_list)

    client.get(reverse("tenancy:staff_list"))  # the session and the membership cache are warm from here
    add_staff(2)
    few = queries_to_list()
    add_staff(15)
    many = queries_to_list()
    assert many[1] == few[1] + 15
    assert many[0] == few[0]


def test_the_staff_list_finds_by_name_and_shows_inactive_staff_on_request(as_user, admin, agency, caseworker):
    with agency_scope(agency):
        Membership.objects.filter(user=caseworker).update(is_active=False)
    client = as_user(admin)

    def listed(**params):
        return {m.user for m in client.get(reverse("tenancy:staff_list"), params).context["table"].page.object_list}

    assert listed() == {admin}
    assert listed(status="inactive") == {caseworker}
    assert listed(status="", q=caseworker.email.upper()) == {caseworker}


def test_it_adds_a_new_staff_member_and_sends_an_invitation(as_user, admin, agency):
    program = make_program(agency)
    response = as_user(admin).post(
        reverse("tenancy:staff_add"), staff_data(agency, programs=[program.pk], manager=membership_of(admin, agency).pk, title="Job developer")
    )
    assert response.status_code == 302
    user = User.objects.get(email="nadia.haddad@example.org")
    assert user.full_name == "Nadia Haddad"
    assert not user.has_usable_password()
    membership = membership_of(user, agency)
    assert membership.role.name == "Caseworker" and membership.title == "Job developer"
    [event] = events(agency, membership, AuditEvent.Action.CREATE)
    assert event.changes["programs"] == [None, [program.pk]]
    assert event.changes["role"] == [None, membership.role_id]
    with agency_scope(agency):
        invitation = OutboundMessage.objects.get(to=user.email)
    assert invitation.kind == "portal_invitation"


def test_someone_already_staff_elsewhere_just_gains_a_membership(as_user, admin, agency, outsider):
    response = as_user(admin).post(reverse("tenancy:staff_add"), staff_data(agency, email=outsider.email.upper(), full_name="Renamed"))
    assert response.status_code == 302
    outsider.refresh_from_db()
    assert outsider.full_name != "Renamed"
    assert outsider.has_usable_password()
    assert membership_of(outsider, agency).role.name == "Caseworker"
    assert User.objects.filter(email=outsider.email).count() == 1
    with agency_scope(agency):
        assert not OutboundMessage.objects.filter(to=outsider.email).exists()


def test_someone_already_staff_here_is_a_form_error_on_the_email(as_user, admin, agency, caseworker):
    response = as_user(admin).post(reverse("tenancy:staff_add"), staff_data(agency, email=caseworker.email))
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["email"]


def test_forged_choices_of_another_agency_are_form_errors_never_links(as_user, admin, agency, other_agency, outsider):
    their_program = make_program(other_agency, "Theirs")
    data = staff_data(
        agency,
        role=role(other_agency, "Administrator").pk,
        programs=[their_program.pk],
        manager=membership_of(outsider, other_agency).pk,
    )
    response = as_user(admin).post(reverse("tenancy:staff_add"), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"role", "programs", "manager"}
    assert not User.objects.filter(email=data["email"]).exists()


def test_a_bad_email_is_a_form_error(as_user, admin, agency):
    response = as_user(admin).post(reverse("tenancy:staff_add"), staff_data(agency, email="nadia@", role=""))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"email", "role"}


def test_it_changes_a_membership_and_records_every_changed_field(as_user, admin, agency, caseworker):
    program = make_program(agency)
    membership = membership_of(caseworker, agency)
    manager = membership_of(admin, agency)
    data = membership_data(
        membership, role=role(agency, "Front desk").pk, programs=[program.pk], manager=manager.pk, title="Intake", is_active=""
    )
    response = as_user(admin).post(reverse("tenancy:staff_edit", args=[membership.pk]), data)
    assert response.status_code == 302
    [event] = events(agency, membership, AuditEvent.Action.CHANGE)
    assert event.actor == admin
    assert event.changes == {
        "role": [role(agency, "Caseworker").pk, role(agency, "Front desk").pk],
        "programs": [[], [program.pk]],
        "manager": [None, manager.pk],
        "title": ["", "Intake"],
        "is_active": [True, False],
    }


def test_a_staff_member_cannot_be_their_own_manager_or_their_reports_report(as_user, admin, agency, caseworker, manager):
    boss = membership_of(manager, agency)
    worker = membership_of(caseworker, agency)
    client = as_user(admin)
    response = client.post(reverse("tenancy:staff_edit", args=[boss.pk]), membership_data(boss, manager=boss.pk))
    assert "manager" in response.context["form"].errors
    client.post(reverse("tenancy:staff_edit", args=[worker.pk]), membership_data(worker, manager=boss.pk))
    response = client.post(reverse("tenancy:staff_edit", args=[boss.pk]), membership_data(boss, manager=worker.pk))
    assert response.status_code == 200
    assert "manager" in response.context["form"].errors
    assert membership_of(manager, agency).manager_id is None


def test_it_deactivates_a_staff_member(as_user, admin, agency, caseworker):
    membership = membership_of(caseworker, agency)
    response = as_user(admin).post(reverse("tenancy:staff_deactivate", args=[membership.pk]))
    assert response.status_code == 302
    assert not membership_of(caseworker, agency).is_active
    assert events(agency, membership, AuditEvent.Action.CHANGE)[0].changes == {"is_active": [True, False]}


def test_a_deactivated_staff_member_can_no_longer_use_the_agency(as_user, admin, agency, caseworker, client):
    membership = membership_of(caseworker, agency)
    as_user(admin).post(reverse("tenancy:staff_deactivate", args=[membership.pk]))
    client.force_login(caseworker)
    response = client.get(reverse("tenancy:program_list"))
    assert response.status_code == 403


def test_nobody_deactivates_themselves(as_user, admin, agency, manager):
    own = membership_of(admin, agency)
    client = as_user(admin)
    response = client.post(reverse("tenancy:staff_deactivate", args=[own.pk]))
    assert response.status_code == 400
    assert "You cannot deactivate yourself." in response.text
    response = client.post(reverse("tenancy:staff_edit", args=[own.pk]), membership_data(own, is_active=""))
    assert response.context["form"].errors["is_active"] == ["You cannot deactivate yourself."]
    assert membership_of(admin, agency).is_active


def test_nobody_takes_away_their_own_permission_to_manage_staff(as_user, admin, agency):
    make_member(agency, "Administrator")  # another administrator would remain: still refused
    own = membership_of(admin, agency)
    response = as_user(admin).post(reverse("tenancy:staff_edit", args=[own.pk]), membership_data(own, role=role(agency, "Manager").pk))
    assert response.status_code == 200
    assert response.context["form"].errors["role"] == ["You cannot remove your own permission to manage staff."]
    assert membership_of(admin, agency).role.name == "Administrator"


def test_an_administrator_can_demote_another_while_one_remains(as_user, admin, agency):
    other = make_member(agency, "Administrator")
    response = as_user(admin).post(reverse("tenancy:staff_edit", args=[other.pk]), membership_data(other, role=role(agency, "Manager").pk))
    assert response.status_code == 302
    assert membership_of(other.user, agency).role.name == "Manager"


@pytest.mark.parametrize("name", ["staff_edit", "staff_deactivate"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_agencys_staff_member_is_not_found(as_user, outsider, agency, caseworker, name, method):
    membership = membership_of(caseworker, agency)
    response = getattr(as_user(outsider), method)(reverse(f"tenancy:{name}", args=[membership.pk]), {"is_active": ""})
    assert response.status_code == 404
    assert membership_of(caseworker, agency).is_active
