import pytest

from caseload.api.tests.helpers import errors_of
from caseload.audit.models import AuditEvent
from caseload.messaging.models import OutboundMessage
from caseload.tenancy import actions
from caseload.tenancy.models import Membership, Program, Role
from caseload.tenancy.scoping import agency_scope

URL = "/api/v1/staff/"


def role_named(agency, name):
    with agency_scope(agency):
        return Role.objects.for_agency(agency).get(name=name)


def make_program(agency, name="LINC"):
    with agency_scope(agency):
        return actions.create_object(Program, agency=agency, actor=None, data={"name": name})


def membership_of(agency, user):
    with agency_scope(agency):
        return Membership.objects.for_agency(agency).select_related("role").get(user=user)


@pytest.mark.django_db
class TestList:
    def test_it_lists_only_the_agencys_staff(self, api, agency, other_agency, admin, caseworker, outsider):
        response = api.as_user(admin).get(URL)
        assert response.status_code == 200
        emails = {m["user"]["email"] for m in response.json()["results"]}
        assert emails == {admin.email, caseworker.email}

    @pytest.mark.parametrize("role", ["manager", "caseworker", "auditor"])
    def test_it_needs_staff_manage(self, api, agency, role, request):
        assert api.as_user(request.getfixturevalue(role)).get(URL).status_code == 403

    @pytest.mark.parametrize("method", ["get", "put", "patch"])
    def test_it_answers_404_for_another_agencys_member(self, api, agency, other_agency, admin, outsider, method):
        theirs = membership_of(other_agency, outsider)
        response = getattr(api.as_user(admin), method)(f"{URL}{theirs.pk}/", {"title": "Hijacked", "role": theirs.role_id})
        assert response.status_code == 404
        assert membership_of(other_agency, outsider).title == ""

    def test_staff_are_not_deleted_but_deactivated(self, api, agency, admin, caseworker):
        membership = membership_of(agency, caseworker)
        assert api.as_user(admin).delete(f"{URL}{membership.pk}/").status_code == 405


@pytest.mark.django_db
class TestUpdate:
    def test_an_administrator_changes_role_programs_manager_title_and_status(self, api, agency, admin, manager, caseworker):
        program = make_program(agency)
        membership = membership_of(agency, caseworker)
        boss = membership_of(agency, manager)
        response = api.as_user(admin).put(
            f"{URL}{membership.pk}/",
            {
                "role": role_named(agency, "Front desk").pk,
                "programs": [program.pk],
                "manager": boss.pk,
                "title": "Intake worker",
                "is_active": False,
            },
        )
        assert response.status_code == 200, response.json()
        changed = membership_of(agency, caseworker)
        assert (changed.role.name, changed.manager_id, changed.title, changed.is_active) == ("Front desk", boss.pk, "Intake worker", False)
        with agency_scope(agency):
            assert list(changed.programs.all()) == [program]
            event = AuditEvent.objects.for_agency(agency).filter(object_type="tenancy.membership", action="change").get()
        assert set(event.changes) == {"role", "programs", "manager", "title", "is_active"}

    @pytest.mark.parametrize("field", ["role", "programs", "manager"])
    def test_another_agencys_object_does_not_exist(self, api, agency, other_agency, admin, caseworker, outsider, field):
        value = {
            "role": role_named(other_agency, "Administrator").pk,
            "programs": [make_program(other_agency).pk],
            "manager": membership_of(other_agency, outsider).pk,
        }[field]
        membership = membership_of(agency, caseworker)
        response = api.as_user(admin).patch(f"{URL}{membership.pk}/", {field: value})
        assert response.status_code == 400
        assert errors_of(response) == {field: ["does_not_exist"]}
        assert membership_of(agency, caseworker).role.name == "Caseworker"

    def test_a_member_cannot_be_their_own_manager(self, api, agency, admin, caseworker):
        membership = membership_of(agency, caseworker)
        response = api.as_user(admin).patch(f"{URL}{membership.pk}/", {"manager": membership.pk})
        assert response.status_code == 400
        assert list(errors_of(response)) == ["manager"]

    def test_an_administrator_cannot_deactivate_themselves(self, api, agency, admin):
        membership = membership_of(agency, admin)
        response = api.as_user(admin).patch(f"{URL}{membership.pk}/", {"is_active": False})
        assert response.status_code == 400
        assert list(errors_of(response)) == ["is_active"]
        assert membership_of(agency, admin).is_active

    def test_the_auditor_cannot_write(self, api, agency, auditor, caseworker):
        membership = membership_of(agency, caseworker)
        client = api.as_user(auditor)
        assert client.patch(f"{URL}{membership.pk}/", {"title": "Changed"}).status_code == 403
        assert client.post(URL, {"email": "new@example.org", "role": membership.role_id}).status_code == 403
        assert membership_of(agency, caseworker).title == ""


@pytest.mark.django_db
class TestCreate:
    def test_an_administrator_adds_a_staff_member_who_is_invited_by_email(self, api, agency, admin):
        program = make_program(agency)
        response = api.as_user(admin).post(
            URL,
            {"email": "New.Person@Example.org", "full_name": "Zoë N'Diaye", "role": role_named(agency, "Caseworker").pk, "programs": [program.pk]},
        )
        assert response.status_code == 201, response.json()
        body = response.json()
        assert body["user"]["email"] == "new.person@example.org"
        assert body["programs"] == [program.pk]
        with agency_scope(agency):
            assert OutboundMessage.objects.for_agency(agency).filter(to="new.person@example.org").exists()

    def test_someone_already_on_staff_is_a_400_naming_the_email(self, api, agency, admin, caseworker):
        response = api.as_user(admin).post(URL, {"email": caseworker.email, "role": role_named(agency, "Caseworker").pk})
        assert response.status_code == 400
        assert errors_of(response) == {"email": ["unique"]}

    def test_staff_of_another_agency_can_join_this_one(self, api, agency, other_agency, admin, outsider):
        response = api.as_user(admin).post(URL, {"email": outsider.email, "role": role_named(agency, "Caseworker").pk})
        assert response.status_code == 201
        assert membership_of(other_agency, outsider).role.name == "Administrator"

    def test_missing_email_and_role_are_named(self, api, agency, admin):
        response = api.as_user(admin).post(URL, {})
        assert response.status_code == 400
        assert errors_of(response) == {"email": ["required"], "role": ["required"]}

    def test_a_role_of_another_agency_does_not_exist(self, api, agency, other_agency, admin):
        response = api.as_user(admin).post(URL, {"email": "x@example.org", "role": role_named(other_agency, "Administrator").pk})
        assert response.status_code == 400
        assert errors_of(response) == {"role": ["does_not_exist"]}
        with agency_scope(agency):
            assert not Membership.objects.for_agency(agency).filter(user__email="x@example.org").exists()

