"""/api/v1/service-referrals/ and /api/v1/directory/...: agency-scoped, permission-checked, errors naming the field."""

from __future__ import annotations

import pytest

from caseload.audit.models import AuditEvent
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService, ServiceReferral
from caseload.casework.tests.referral_helpers import (  # noqa: F401 (fixtures)
    FOLLOW_UP,
    REASON,
    amina_fixture,
    bruno_fixture,
    food_bank_fixture,
    fresh,
    job_club_fixture,
    make_directory,
    refer,
)
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_program

pytestmark = pytest.mark.django_db

URL = "/api/v1/service-referrals/"
Status = ServiceReferral.Status


def attrs(response) -> set[str]:
    return {error["attr"] for error in response.json()["errors"]}


def count(agency, model=ServiceReferral) -> int:
    with agency_scope(agency):
        return model.objects.for_agency(agency).count()


# --- Service referrals -------------------------------------------------------------------------


def test_it_creates_internal_and_external_referrals(api, agency, caseworker, amina, food_bank, job_club):
    client = api.as_user(caseworker)
    internal = client.post(
        URL, {"client": amina.pk, "kind": "internal", "to_program": job_club.pk, "reason": REASON}, format="json"
    )
    assert internal.status_code == 201, internal.json()
    assert (internal.json()["status"], internal.json()["to_program"], internal.json()["service"]) == ("sent", job_club.pk, None)

    external = client.post(
        URL,
        {
            "client": amina.pk,
            "kind": "external",
            "service": food_bank.service.pk,
            "location": food_bank.location.pk,
            "contact": food_bank.contact.pk,
            "reason": REASON,
            "follow_up_on": FOLLOW_UP.isoformat(),
            "remind_client": True,
        },
        format="json",
    )
    assert external.status_code == 201, external.json()
    body = external.json()
    assert (body["service"], body["location"], body["contact"], body["remind_client"]) == (
        food_bank.service.pk,
        food_bank.location.pk,
        food_bank.contact.pk,
        True,
    )
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="casework.servicereferral", action="create", client_id=amina.pk)
            .count()
            == 2
        )


def test_another_agencys_client_program_or_service_is_refused_naming_the_field(
    api, agency, other_agency, caseworker, amina, food_bank
):
    their_program = make_program(other_agency, "Theirs")
    theirs = make_directory(other_agency, "Their food bank")
    client = api.as_user(caseworker)
    base = {"client": amina.pk, "kind": "external", "service": food_bank.service.pk, "reason": REASON}
    for change, field in (
        ({"service": theirs.service.pk}, "service"),
        ({"kind": "internal", "service": None, "to_program": their_program.pk}, "to_program"),
        ({"location": theirs.location.pk}, "location"),
        ({"contact": theirs.contact.pk}, "contact"),
    ):
        response = client.post(URL, {**base, **change}, format="json")
        assert response.status_code == 400 and field in attrs(response), (field, response.json())
    assert count(agency) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "internal", "service": None}, "to_program"),
        ({"reason": ""}, "reason"),
        ({"follow_up_on": "2000-01-01"}, "follow_up_on"),
        ({"kind": "sideways"}, "kind"),
        ({"outcome": "Too early"}, "outcome"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, agency, caseworker, amina, food_bank, change, field):
    body = {"client": amina.pk, "kind": "external", "service": food_bank.service.pk, "reason": REASON, **change}
    response = api.as_user(caseworker).post(URL, body, format="json")
    assert response.status_code == 400 and field in attrs(response), response.json()
    assert count(agency) == 0


def test_reminding_a_client_without_consent_is_a_400_on_remind_client(api, agency, caseworker, bruno, food_bank):
    body = {
        "client": bruno.pk,
        "kind": "external",
        "service": food_bank.service.pk,
        "reason": REASON,
        "follow_up_on": FOLLOW_UP.isoformat(),
        "remind_client": True,
    }
    response = api.as_user(caseworker).post(URL, body, format="json")
    assert response.status_code == 400 and attrs(response) == {"remind_client"}
    assert "not agreed" in response.json()["errors"][0]["detail"]


def test_respond_close_and_cancel_move_the_status_and_refuse_invalid_moves(api, agency, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    client = api.as_user(caseworker)

    wrong = client.post(f"{URL}{referral.pk}/close/", {"status": "completed", "outcome": "Done"}, format="json")
    assert wrong.status_code == 400 and attrs(wrong) == {"status"}

    accepted = client.post(f"{URL}{referral.pk}/respond/", {"status": "accepted"}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted" and accepted.json()["responded_at"]

    no_outcome = client.post(f"{URL}{referral.pk}/close/", {"status": "completed"}, format="json")
    assert no_outcome.status_code == 400 and attrs(no_outcome) == {"outcome"}

    closed = client.post(f"{URL}{referral.pk}/close/", {"status": "completed", "outcome": "Got a hamper."}, format="json")
    assert closed.status_code == 200 and (closed.json()["status"], closed.json()["outcome"]) == ("completed", "Got a hamper.")

    again = client.post(f"{URL}{referral.pk}/cancel/", {}, format="json")
    assert again.status_code == 400 and attrs(again) == {"status"}
    assert fresh(referral).status == Status.COMPLETED


def test_list_filters_by_client_and_status(api, agency, caseworker, amina, bruno, food_bank):
    mine = refer(amina, caseworker, kind="external", service=food_bank.service)
    other = refer(bruno, caseworker, kind="external", service=food_bank.service)
    with agency_scope(agency):
        from caseload.casework import referrals

        referrals.cancel_referral(other, caseworker)
    client = api.as_user(caseworker)
    assert [r["id"] for r in client.get(URL, {"client": amina.pk}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in client.get(URL, {"status": "open"}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in client.get(URL, {"status": "cancelled"}).json()["results"]] == [other.pk]
    bad = client.get(URL, {"status": "sideways"})
    assert bad.status_code == 400 and attrs(bad) == {"status"}


def test_update_and_delete(api, agency, caseworker, amina, food_bank, job_club):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    client = api.as_user(caseworker)
    changed = client.patch(
        f"{URL}{referral.pk}/", {"follow_up_on": FOLLOW_UP.isoformat(), "location": food_bank.location.pk}, format="json"
    )
    assert changed.status_code == 200, changed.json()
    assert (fresh(referral).follow_up_on, fresh(referral).location) == (FOLLOW_UP, food_bank.location)

    client.post(f"{URL}{referral.pk}/respond/", {"status": "accepted"}, format="json")
    moved = client.patch(f"{URL}{referral.pk}/", {"kind": "internal", "to_program": job_club.pk, "service": None}, format="json")
    assert moved.status_code == 400 and attrs(moved) & {"kind", "to_program", "service"}

    assert client.delete(f"{URL}{referral.pk}/").status_code == 204
    assert fresh(referral).deleted_at is not None
    assert client.get(f"{URL}{referral.pk}/").status_code == 404


def test_permissions_and_another_agency(api, agency, caseworker, auditor, outsider, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    assert api.as_user(auditor).get(f"{URL}{referral.pk}/").status_code == 200
    assert api.as_user(auditor).post(f"{URL}{referral.pk}/respond/", {"status": "accepted"}, format="json").status_code == 403
    assert (
        api.as_user(auditor)
        .post(URL, {"client": amina.pk, "kind": "external", "service": food_bank.service.pk, "reason": "x"}, format="json")
        .status_code
        == 403
    )
    outside = api.as_user(outsider)
    assert outside.get(f"{URL}{referral.pk}/").status_code == 404
    assert outside.post(f"{URL}{referral.pk}/respond/", {"status": "accepted"}, format="json").status_code == 404
    assert outside.get(URL).json()["results"] == []
    assert fresh(referral).status == Status.SENT


# --- The directory -----------------------------------------------------------------------------

DIRECTORY = "/api/v1/directory/"


def test_the_directory_is_read_with_casework_view_and_written_with_casework_configure(
    api, agency, caseworker, manager, food_bank
):
    reader = api.as_user(caseworker)
    names = [o["name"] for o in reader.get(f"{DIRECTORY}organisations/").json()["results"]]
    assert names == ["North York Food Bank"]
    services = reader.get(f"{DIRECTORY}services/", {"organisation": food_bank.organisation.pk}).json()["results"]
    assert [s["name"] for s in services] == ["Emergency groceries"]
    assert reader.get(f"{DIRECTORY}locations/{food_bank.location.pk}/").json()["services"] == [food_bank.service.pk]
    assert reader.post(f"{DIRECTORY}organisations/", {"name": "Clinic"}, format="json").status_code == 403

    writer = api.as_user(manager)
    created = writer.post(
        f"{DIRECTORY}organisations/", {"name": "Community Legal Clinic", "website": "https://clinic.example.org"}, format="json"
    )
    assert created.status_code == 201, created.json()
    org = created.json()["id"]
    service = writer.post(f"{DIRECTORY}services/", {"organisation": org, "name": "Tenant rights"}, format="json")
    assert service.status_code == 201
    location = writer.post(
        f"{DIRECTORY}locations/", {"organisation": org, "name": "Downtown", "services": [service.json()["id"]]}, format="json"
    )
    assert location.status_code == 201, location.json()
    contact = writer.post(
        f"{DIRECTORY}contacts/", {"organisation": org, "name": "Lee Wong", "service": service.json()["id"]}, format="json"
    )
    assert contact.status_code == 201, contact.json()

    assert writer.delete(f"{DIRECTORY}services/{service.json()['id']}/").status_code == 204
    with agency_scope(agency):
        assert DirectoryService.objects.for_agency(agency).get(pk=service.json()["id"]).is_active is False


def test_directory_errors_name_the_field(api, agency, other_agency, manager, food_bank):
    theirs = make_directory(other_agency, "Theirs")
    writer = api.as_user(manager)
    duplicate = writer.post(f"{DIRECTORY}organisations/", {"name": "North York Food Bank"}, format="json")
    assert duplicate.status_code == 400 and attrs(duplicate) == {"name"}
    foreign = writer.post(f"{DIRECTORY}services/", {"organisation": theirs.organisation.pk, "name": "Groceries"}, format="json")
    assert foreign.status_code == 400 and attrs(foreign) == {"organisation"}
    mixed = writer.post(
        f"{DIRECTORY}locations/",
        {"organisation": food_bank.organisation.pk, "name": "X", "services": [theirs.service.pk]},
        format="json",
    )
    assert mixed.status_code == 400 and "services" in attrs(mixed)
    clinic = make_directory(agency, "Clinic")
    other_org = writer.post(
        f"{DIRECTORY}contacts/",
        {"organisation": food_bank.organisation.pk, "name": "Y", "service": clinic.service.pk},
        format="json",
    )
    assert other_org.status_code == 400 and attrs(other_org) == {"service"}
    moved = writer.patch(f"{DIRECTORY}services/{food_bank.service.pk}/", {"organisation": clinic.organisation.pk}, format="json")
    assert moved.status_code == 400 and attrs(moved) == {"organisation"}
    assert count(agency, DirectoryContact) == 2 and count(agency, DirectoryLocation) == 2


def test_another_agencys_directory_is_a_404(api, outsider, food_bank):
    outside = api.as_user(outsider)
    for path, row in (
        ("organisations", food_bank.organisation),
        ("services", food_bank.service),
        ("locations", food_bank.location),
        ("contacts", food_bank.contact),
    ):
        assert outside.get(f"{DIRECTORY}{path}/{row.pk}/").status_code == 404
        assert outside.patch(f"{DIRECTORY}{path}/{row.pk}/", {"name": "Taken"}, format="json").status_code == 404
    assert outside.get(f"{DIRECTORY}organisations/").json()["results"] == []
    with agency_scope(food_bank.organisation.agency):
        assert DirectoryOrganisation.objects.for_agency(food_bank.organisation.agency).get().name == "North York Food Bank"
