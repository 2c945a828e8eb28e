"""The filters of the client list (page and API): program, assigned staff, status, safety flag, language, age."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from caseload.api.tests.helpers import errors_of
from caseload.clients.models import Assignment, Client, ClientPhone, Enrolment
from caseload.clients.queries import filter_clients, likely_duplicates, search_clients
from caseload.tenancy.models import Membership, Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

API = "/api/v1/clients/"
TODAY = date(2026, 6, 15)


def membership_of(agency, user):
    with agency_scope(agency):
        return Membership.objects.for_agency(agency).get(user=user)


@pytest.fixture
def people(agency, register, caseworker):
    """Four clients who differ in every filter, and the things attached to them."""
    with agency_scope(agency):
        youth = Program.objects.create(agency=agency, name="Youth Job Connection")
        linc = Program.objects.create(agency=agency, name="LINC")
    amina = register(agency, given_name="Amina", family_name="Haddad", date_of_birth="2004-06-16", preferred_language="ar")
    marc = register(
        agency,
        given_name="Marc",
        family_name="Tremblay",
        date_of_birth="1970-01-01",
        preferred_language="fr",
        spoken_languages=["en", "ar"],
    )
    wei = register(agency, given_name="Wei", family_name="Zhang", date_of_birth="1990-05-05", preferred_language="zh")
    anonymous = register(agency, is_anonymous=True, age_range="15-24", preferred_language="so")
    me = membership_of(agency, caseworker)
    other = make_member(agency, "Caseworker")
    with agency_scope(agency):
        Enrolment.objects.create(agency=agency, client=amina, program=youth)
        Enrolment.objects.create(agency=agency, client=marc, program=youth, end_date=date(2025, 1, 1))  # ended: no longer in it
        Enrolment.objects.create(agency=agency, client=wei, program=linc)
        Assignment.objects.create(agency=agency, client=amina, staff=me, is_primary=True)
        Assignment.objects.create(agency=agency, client=wei, staff=other, is_primary=True)
        Client.objects.for_agency(agency).filter(pk=marc.pk).update(has_safety_flag=True)
        Client.objects.for_agency(agency).filter(pk=wei.pk).update(status=Client.Status.ARCHIVED)
    return {
        "amina": amina,
        "marc": marc,
        "wei": wei,
        "anonymous": anonymous,
        "youth": youth,
        "linc": linc,
        "me": me,
        "other": other,
    }


def names(agency, **filters):
    with agency_scope(agency):
        found = filter_clients(Client.objects.for_agency(agency), agency=agency, today=TODAY, **filters)
        return sorted(str(c) for c in found)


class TestFilterClients:
    def test_each_filter_narrows_the_list(self, agency, people):
        assert names(agency, program=people["youth"]) == ["Amina Haddad"]
        assert names(agency, program=people["linc"], status="archived") == ["Wei Zhang"]
        assert names(agency, staff=people["me"]) == ["Amina Haddad"]
        assert names(agency, staff=people["other"]) == ["Wei Zhang"]
        assert names(agency, flagged=True) == ["Marc Tremblay"]
        assert names(agency, flagged=False, status="active") == ["Amina Haddad", str(people["anonymous"])]
        assert names(agency, status="archived") == ["Wei Zhang"]

    def test_language_is_the_preferred_or_a_spoken_one(self, agency, people):
        assert names(agency, language="ar") == ["Amina Haddad", "Marc Tremblay"]
        assert names(agency, language="fr") == ["Marc Tremblay"]
        assert names(agency, language="so") == [str(people["anonymous"])]
        assert names(agency, language="a") == []

    def test_age_counts_whole_years_from_the_birth_date_or_the_age_range(self, agency, people):
        # Amina turns 22 on 16 June 2026: still 21 on the 15th. The anonymous client is 15 to 24: any overlap counts.
        assert names(agency, min_age=22) == [str(people["anonymous"]), "Marc Tremblay", "Wei Zhang"]
        assert names(agency, min_age=25) == ["Marc Tremblay", "Wei Zhang"]
        assert names(agency, max_age=21) == ["Amina Haddad", str(people["anonymous"])]
        assert names(agency, min_age=21, max_age=21) == ["Amina Haddad", str(people["anonymous"])]
        assert names(agency, min_age=30, max_age=40) == ["Wei Zhang"]
        assert names(agency, min_age=56) == ["Marc Tremblay"]

    def test_filters_combine_with_each_other(self, agency, people):
        assert names(agency, language="ar", flagged=False) == ["Amina Haddad"]
        assert names(agency, language="ar", max_age=30) == ["Amina Haddad"]
        assert names(agency, program=people["youth"], staff=people["other"]) == []

    def test_merged_clients_never_show(self, agency, people, register):
        gone = register(agency, given_name="Amina", family_name="Hadad", phone="613-555-0199", date_of_birth="2004-06-16")
        with agency_scope(agency):
            Client.objects.for_agency(agency).filter(pk=gone.pk).update(status=Client.Status.MERGED, merged_into=people["amina"])
            assert gone not in [m.client for m in search_clients(agency, "Amina Hadad")]
            assert gone not in [m.client for m in search_clients(agency, "613 555 0199")]
            duplicates = likely_duplicates(agency, {"given_name": "Amina", "family_name": "Hadad", "date_of_birth": "2004-06-16"})
            assert [m.client for m in duplicates] == [people["amina"]]
        assert "Amina Hadad" not in names(agency)
        assert "Amina Hadad" not in names(agency, status="merged")


class TestAdditionalPhones:
    def test_search_and_the_duplicate_check_find_an_additional_number(self, agency, register):
        client = register(agency, given_name="Kwame", family_name="Mensah", phone="416-555-0100")
        with agency_scope(agency):
            ClientPhone.objects.create(agency=agency, client=client, number="+16135550142", kind=ClientPhone.Kind.WORK)
            found = search_clients(agency, "(613) 555-0142")
            flagged = likely_duplicates(agency, {"given_name": "Ingrid", "family_name": "Åberg", "phone": "613.555.0142"})
        assert [m.client for m in found] == [client]
        assert [m.client for m in flagged] == [client]
        assert [str(r) for r in flagged[0].reasons] == ["same phone"]

    def test_another_agencys_additional_number_is_not_found(self, agency, other_agency, register):
        theirs = register(other_agency, given_name="Kwame", family_name="Mensah")
        with agency_scope(other_agency):
            ClientPhone.objects.create(agency=other_agency, client=theirs, number="+16135550142")
        with agency_scope(agency):
            assert search_clients(agency, "613-555-0142") == []
            assert likely_duplicates(agency, {"phone": "613-555-0142"}) == []


class TestPage:
    def page(self, as_user, user, **params):
        return as_user(user).get(reverse("clients:list"), params)

    def test_each_filter_narrows_the_table(self, as_user, caseworker, people):
        def listed(**params):
            content = self.page(as_user, caseworker, **params).content.decode()
            # As a cell's text begins: bare, "Wei" was once found inside a page's random CSRF token.
            return [name for name in ("Amina", "Marc", "Wei", "Anonymous client") if f">{name}" in content]

        assert listed() == ["Amina", "Marc", "Anonymous client"]
        assert listed(program=people["youth"].pk) == ["Amina"]
        assert listed(staff="me") == ["Amina"]
        assert listed(staff=people["other"].pk, status="archived") == ["Wei"]
        assert listed(flagged="yes") == ["Marc"]
        assert listed(flagged="no") == ["Amina", "Anonymous client"]
        assert listed(language="fr") == ["Marc"]
        assert listed(min_age=50) == ["Marc"]

    def test_filters_combine_with_the_search_text(self, as_user, caseworker, people, register, agency):
        register(agency, given_name="Amina", family_name="Hadad", date_of_birth="1950-01-01")
        response = self.page(as_user, caseworker, q="amina hadad", max_age=40)
        content = response.content.decode()
        assert "Amina Haddad" in content
        assert "Amina Hadad<" not in content
        assert [row.client for row in response.context["results"]] == [people["amina"]]

    def test_the_page_shows_the_active_filters_each_with_a_link_that_removes_it(self, as_user, caseworker, people):
        response = self.page(as_user, caseworker, q="amina", program=people["youth"].pk, flagged="no", min_age=18, max_age=30)
        shown = {(f.label, f.value): f.clear_url for f in response.context["active_filters"]}
        assert set(shown) == {("Program", "Youth Job Connection"), ("Safety flag", "Not flagged"), ("Age", "18 to 30")}
        assert "program" not in shown[("Program", "Youth Job Connection")]
        assert "q=amina" in shown[("Program", "Youth Job Connection")]
        assert "min_age" not in shown[("Age", "18 to 30")] and "max_age" not in shown[("Age", "18 to 30")]
        content = response.content.decode()
        assert 'aria-label="Filters in use"' in content
        assert '<details class="client-more-filters" open>' in content
        assert '<details class="client-more-filters" open>' not in self.page(as_user, caseworker).content.decode()

    def test_the_chosen_filters_stay_selected_in_their_lists(self, as_user, caseworker, people):
        response = self.page(
            as_user, caseworker, status="archived", program=people["linc"].pk, staff=people["other"].pk, flagged="yes", language="so"
        )
        content = response.content.decode()
        assert '<option value="archived" selected>' in content
        assert f'<option value="{people["linc"].pk}" selected>LINC</option>' in content
        assert f'<option value="{people["other"].pk}" selected>' in content
        assert '<option value="yes" selected>Flagged</option>' in content
        assert '<option value="so" selected>Somali</option>' in content
        # One choice selected per list, and none at all without filters.
        assert content.count(" selected>") == 5
        assert " selected>" not in self.page(as_user, caseworker).content.decode().replace('<option value="active" selected>', "")

    def test_a_bad_filter_is_ignored_with_a_message(self, as_user, caseworker, people):
        response = self.page(
            as_user, caseworker, program="999999", min_age="old", language="<b>", flagged="maybe", staff="nobody"
        )
        assert response.status_code == 200
        shown = [str(m) for m in response.context["messages"]]
        assert len(shown) == 5
        assert any("Program" in m for m in shown) and any("Age from" in m for m in shown)
        content = response.content.decode()
        assert "Amina" in content and "Marc" in content
        assert response.context["active_filters"] == []

    def test_another_agencys_program_and_staff_never_match(self, as_user, caseworker, people, other_agency, outsider):
        with agency_scope(other_agency):
            theirs = Program.objects.create(agency=other_agency, name="Their program")
        their_staff = membership_of(other_agency, outsider)
        for params in ({"program": theirs.pk}, {"staff": their_staff.pk}):
            response = self.page(as_user, caseworker, **params)
            assert response.status_code == 200
            assert len(list(response.context["messages"])) == 1
            assert response.context["active_filters"] == []
        content = self.page(as_user, caseworker).content.decode()
        assert "Their program" not in content and str(outsider.email) not in content

    def test_merged_is_not_a_status_one_can_list(self, as_user, caseworker, people):
        response = self.page(as_user, caseworker, status="merged")
        assert response.context["status"] == "active"


class TestApi:
    def listed(self, api, user, **params):
        response = api.as_user(user).get(API, params)
        assert response.status_code == 200, response.json()
        return sorted(row["given_name"] or row["age_range"] for row in response.json()["results"])

    def test_each_filter_narrows_the_list_and_combines_with_q(self, api, caseworker, people):
        assert self.listed(api, caseworker) == ["15-24", "Amina", "Marc"]
        assert self.listed(api, caseworker, program=people["youth"].pk) == ["Amina"]
        assert self.listed(api, caseworker, staff="me") == ["Amina"]
        assert self.listed(api, caseworker, staff=people["other"].pk, status="archived") == ["Wei"]
        assert self.listed(api, caseworker, flagged="true") == ["Marc"]
        assert self.listed(api, caseworker, flagged="false") == ["15-24", "Amina"]
        assert self.listed(api, caseworker, language="AR") == ["Amina", "Marc"]
        assert self.listed(api, caseworker, min_age=50) == ["Marc"]
        assert self.listed(api, caseworker, q="Tremblay", flagged="true") == ["Marc"]
        assert self.listed(api, caseworker, q="Tremblay", flagged="false") == []

    def test_bad_filters_are_a_400_naming_the_field(self, api, caseworker, people):
        session = api.as_user(caseworker)
        for params, field in [
            ({"program": "x"}, "program"),
            ({"program": 999999}, "program"),
            ({"staff": "someone"}, "staff"),
            ({"flagged": "maybe"}, "flagged"),
            ({"language": "<b>"}, "language"),
            ({"min_age": -1}, "min_age"),
            ({"max_age": 400}, "max_age"),
            ({"min_age": 40, "max_age": 30}, "max_age"),
            ({"status": "merged"}, "status"),
        ]:
            response = session.get(API, params)
            assert response.status_code == 400, params
            assert field in errors_of(response), (params, response.json())

    def test_another_agencys_program_or_staff_is_a_400(self, api, caseworker, people, other_agency, outsider):
        with agency_scope(other_agency):
            theirs = Program.objects.create(agency=other_agency, name="Their program")
        session = api.as_user(caseworker)
        assert errors_of(session.get(API, {"program": theirs.pk})) == {"program": ["does_not_exist"]}
        assert errors_of(session.get(API, {"staff": membership_of(other_agency, outsider).pk})) == {"staff": ["does_not_exist"]}
