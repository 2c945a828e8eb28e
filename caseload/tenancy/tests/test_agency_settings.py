from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.tenancy.models import Agency
from caseload.tenancy.tests.helpers import events

URL = reverse("tenancy:agency_settings")


def settings_data(**changes):
    return {"name": "Northside Test Agency", "time_zone": "America/Toronto", "languages": ["en", "fr"], **changes}


def test_it_shows_the_agencys_settings(as_user, admin, agency):
    response = as_user(admin).get(URL)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["name"] == agency.name
    assert form.initial["time_zone"] == "America/Toronto"
    assert '<option value="America/Vancouver"' in response.text


def test_it_saves_the_settings_and_records_the_changed_fields(as_user, admin, agency):
    response = as_user(admin).post(
        URL, settings_data(name="Northside Employment", time_zone="America/Vancouver", languages=["en", "fr", "ar"], require_two_factor="on")
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert (agency.name, agency.time_zone, agency.require_two_factor) == ("Northside Employment", "America/Vancouver", True)
    [event] = events(agency, agency, AuditEvent.Action.CHANGE)
    assert event.actor == admin
    assert event.changes == {
        "name": ["Northside Test Agency", "Northside Employment"],
        "time_zone": ["America/Toronto", "America/Vancouver"],
        "languages": [["en", "fr"], ["en", "fr", "ar"]],
        "require_two_factor": [False, True],
    }


def test_an_unknown_time_zone_or_language_is_a_form_error(as_user, admin, agency):
    response = as_user(admin).post(URL, settings_data(time_zone="Mars/Olympus_Mons", languages=["xx"]))
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"time_zone", "languages"}
    agency.refresh_from_db()
    assert agency.time_zone == "America/Toronto"
    assert events(agency, agency, AuditEvent.Action.CHANGE) == []


def test_the_name_of_another_agency_is_a_form_error(as_user, admin, agency, other_agency):
    response = as_user(admin).post(URL, settings_data(name=other_agency.name))
    assert response.status_code == 200
    assert "name" in response.context["form"].errors
    assert Agency.objects.get(pk=agency.pk).name == "Northside Test Agency"


def test_the_outsider_sees_and_changes_only_their_own_agency(as_user, outsider, agency, other_agency):
    client = as_user(outsider)
    assert client.get(URL).context["form"].initial["name"] == other_agency.name
    client.post(URL, settings_data(name="Riverside Renamed"))
    agency.refresh_from_db()
    other_agency.refresh_from_db()
    assert agency.name == "Northside Test Agency"
    assert other_agency.name == "Riverside Renamed"
