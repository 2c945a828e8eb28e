"""The referral directory: its actions, its pages, and the HSDS export and import."""

from __future__ import annotations

import copy
import io
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from caseload.audit.models import AuditEvent
from caseload.casework import directory, hsds
from caseload.casework.models import DirectoryContact, DirectoryLocation, DirectoryOrganisation, DirectoryService
from caseload.casework.tests.referral_helpers import Directory, food_bank_fixture, in_scope, make_directory  # noqa: F401 (fixtures)
from caseload.tenancy.scoping import agency_scope

pytestmark = pytest.mark.django_db


def rows(agency, model):
    with agency_scope(agency):
        return list(model.objects.for_agency(agency).order_by("pk"))


# --- Actions -----------------------------------------------------------------------------------


def test_each_row_is_created_changed_and_deactivated_with_an_audit_event(agency, admin, food_bank):
    with agency_scope(agency):
        directory.update_service(food_bank.service, admin, {"phone": "416-555-0999"})
        directory.deactivate_location(food_bank.location, admin)
        directory.deactivate_contact(food_bank.contact, admin)
        directory.deactivate_organisation(food_bank.organisation, admin)
        events = AuditEvent.objects.for_agency(agency)
        assert {e.object_type for e in events.filter(action="create", object_type__startswith="casework.")} == {
            "casework.directoryorganisation",
            "casework.directoryservice",
            "casework.directorylocation",
            "casework.directorycontact",
        }
        changes = {e.object_type: e.changes for e in events.filter(action="change", actor=admin)}
    assert changes["casework.directoryservice"] == {"phone": ["416-555-0111", "416-555-0999"]}
    assert changes["casework.directoryorganisation"] == {"is_active": [True, False]}
    assert changes["casework.directorylocation"] == changes["casework.directorycontact"] == {"is_active": [True, False]}
    assert list(in_scope(agency, directory.offered_services, agency)) == []


def test_names_are_unique_in_the_agency_and_the_organisation(agency, other_agency, admin, food_bank):
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        directory.create_organisation(agency, admin, {"name": "north york food bank"})
    assert "name" in error.value.message_dict
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        directory.create_service(food_bank.organisation, admin, {"name": "EMERGENCY GROCERIES"})
    assert "name" in error.value.message_dict
    make_directory(other_agency)  # the same names in another agency are fine


def test_a_location_or_contact_links_only_services_of_its_organisation(agency, admin, food_bank):
    clinic = make_directory(agency, "Legal Clinic")
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        directory.create_location(food_bank.organisation, admin, {"name": "Annex", "services": [clinic.service]})
    assert "services" in error.value.message_dict
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        directory.create_contact(food_bank.organisation, admin, {"name": "Sam", "service": clinic.service})
    assert "service" in error.value.message_dict


def test_bad_values_name_the_field(agency, admin):
    with agency_scope(agency), pytest.raises(ValidationError) as error:
        directory.create_organisation(agency, admin, {"name": "Clinic", "email": "not an email", "website": "nope"})
    assert {"email", "website"} <= set(error.value.message_dict)
    assert rows(agency, DirectoryOrganisation) == []


# --- Pages -------------------------------------------------------------------------------------


def test_anyone_with_casework_view_reads_and_searches_the_directory(agency, as_user, auditor, food_bank):
    in_scope(agency, directory.create_organisation, agency, None, {"name": "Legal Clinic"})
    page = as_user(auditor).get(reverse("casework:directory"))
    assert page.status_code == 200
    assert "North York Food Bank" in page.text and "Emergency groceries" in page.text and "Legal Clinic" in page.text
    assert reverse("casework:directory_org_new") not in page.text  # managing needs casework.configure

    found = as_user(auditor).get(reverse("casework:directory"), {"q": "groceries"})
    assert "North York Food Bank" in found.text and "Legal Clinic" not in found.text

    detail = as_user(auditor).get(reverse("casework:directory_org", args=[food_bank.organisation.pk]))
    assert detail.status_code == 200
    assert "Main depot" in detail.text and "Marie Tremblay" in detail.text and "Residents of North York" in detail.text


def test_the_nav_links_the_directory_for_those_who_may_read_it(agency, as_user, caseworker):
    from caseload.testing.factories import make_member

    assert reverse("casework:directory") in as_user(caseworker).get(reverse("casework:directory")).text
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(reverse("casework:directory")).status_code == 403
    assert reverse("casework:directory") not in as_user(front_desk).get(reverse("clients:list")).text


def test_a_manager_adds_an_organisation_and_its_service_location_and_contact(agency, as_user, manager):
    client = as_user(manager)
    response = client.post(
        reverse("casework:directory_org_new"),
        {"name": "Community Legal Clinic", "phone": "416-555-0200", "website": "https://clinic.example.org"},
    )
    [organisation] = rows(agency, DirectoryOrganisation)
    assert response.status_code == 302 and response["Location"] == reverse("casework:directory_org", args=[organisation.pk])

    client.post(
        reverse("casework:directory_service_new", args=[organisation.pk]), {"name": "Tenant rights", "eligibility": "Low income"}
    )
    [service] = rows(agency, DirectoryService)
    client.post(
        reverse("casework:directory_location_new", args=[organisation.pk]),
        {"name": "Downtown", "city": "Toronto", "country": "CA", "services": [service.pk]},
    )
    client.post(reverse("casework:directory_contact_new", args=[organisation.pk]), {"name": "Lee Wong", "service": service.pk})
    [location], [contact] = rows(agency, DirectoryLocation), rows(agency, DirectoryContact)
    assert (location.organisation, contact.service) == (organisation, service)
    with agency_scope(agency):
        assert list(location.services.all()) == [service]

    edit = client.post(reverse("casework:directory_service_edit", args=[service.pk]), {"name": "Tenant rights", "is_active": ""})
    assert edit.status_code == 302
    assert rows(agency, DirectoryService)[0].is_active is False


def test_bad_input_is_a_form_error_naming_the_field_and_writes_nothing(agency, as_user, manager, food_bank):
    response = as_user(manager).post(reverse("casework:directory_org_new"), {"name": "North York Food Bank"})
    assert response.status_code == 400 and "already has an organisation with this name" in response.text
    other = make_directory(agency, "Legal Clinic")
    response = as_user(manager).post(
        reverse("casework:directory_contact_new", args=[food_bank.organisation.pk]), {"name": "X", "service": other.service.pk}
    )
    assert response.status_code == 400 and 'id="id_service_error"' in response.text
    assert len(rows(agency, DirectoryOrganisation)) == 2 and len(rows(agency, DirectoryContact)) == 2


@pytest.mark.parametrize(
    ("name", "row"),
    [
        ("casework:directory_org_edit", "organisation"),
        ("casework:directory_service_new", "organisation"),
        ("casework:directory_service_edit", "service"),
        ("casework:directory_location_new", "organisation"),
        ("casework:directory_location_edit", "location"),
        ("casework:directory_contact_new", "organisation"),
        ("casework:directory_contact_edit", "contact"),
    ],
)
def test_managing_needs_casework_configure_and_another_agencys_row_is_a_404(
    as_user, caseworker, manager, outsider, food_bank, name, row
):
    url = reverse(name, args=[getattr(food_bank, row).pk])
    assert as_user(manager).get(url).status_code == 200
    assert as_user(caseworker).get(url).status_code == 403
    assert as_user(caseworker).post(url, {"name": "Changed"}).status_code == 403
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, {"name": "Changed"}).status_code == 404
    assert as_user(outsider).get(reverse("casework:directory_org", args=[food_bank.organisation.pk])).status_code == 404
    assert as_user(caseworker).get(reverse("casework:directory_org_new")).status_code == 403
    assert as_user(caseworker).get(reverse("casework:directory_import")).status_code == 403


# --- HSDS export and import --------------------------------------------------------------------


def test_the_export_is_hsds_shaped_json_with_linked_ids(agency, as_user, caseworker, food_bank):
    response = as_user(caseworker).get(reverse("casework:directory_export"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    [organization], [service], [location], [contact], [link] = (data[t] for t in hsds.TABLES)
    assert organization["name"] == "North York Food Bank" and organization["phones"][0]["number"] == "416-555-0100"
    assert service["organization_id"] == organization["id"] and service["status"] == "active"
    assert service["eligibility_description"] == "Residents of North York"
    assert location["addresses"][0]["address_1"] == "116 Industry St" and location["organization_id"] == organization["id"]
    assert contact["service_id"] == service["id"]
    assert (link["service_id"], link["location_id"]) == (service["id"], location["id"])
    assert (
        json.loads(as_user(caseworker).get(reverse("casework:directory_export")).content)["organizations"][0]["id"]
        == organization["id"]
    )  # stable
    with agency_scope(agency):
        assert AuditEvent.objects.for_agency(agency).filter(action="export", object_type="casework.directory").exists()


def test_an_export_round_trips_through_the_import(agency, other_agency, admin, outsider, food_bank):
    make_directory(agency, "Legal Clinic")
    exported = in_scope(agency, hsds.export_directory, agency)

    summary = in_scope(other_agency, hsds.import_directory, other_agency, outsider, copy.deepcopy(exported))
    assert summary.created == {"organizations": 2, "services": 2, "locations": 2, "contacts": 2}

    again = in_scope(other_agency, hsds.export_directory, other_agency)

    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not (k == "id" or k.endswith("_id"))}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    assert strip({t: again[t] for t in hsds.TABLES}) == strip(
        {t: exported[t] for t in hsds.TABLES}
    )  # ids are the other agency's own, the rest is the same
    assert len(again["service_at_location"]) == 2

    # Importing the same file again changes nothing and doubles nothing.
    summary = in_scope(other_agency, hsds.import_directory, other_agency, outsider, copy.deepcopy(exported))
    assert not summary.created and not summary.updated and summary.unchanged["organizations"] == 2
    assert len(rows(other_agency, DirectoryOrganisation)) == 2


def test_an_import_updates_rows_matched_by_name(agency, admin, food_bank):
    exported = in_scope(agency, hsds.export_directory, agency)
    exported["services"][0]["phones"] = [{"number": "416-555-0333"}]
    exported["services"][0]["status"] = "temporarily closed"
    summary = in_scope(agency, hsds.import_directory, agency, admin, exported)
    assert summary.updated == {"services": 1}
    [service] = rows(agency, DirectoryService)
    assert (service.phone, service.is_active) == ("416-555-0333", False)


def broken_file() -> dict:
    return {
        "organizations": [
            {"id": "org-1", "name": "Good Org"},
            {"id": "org-2", "name": "", "email": "not-an-email"},
            {"id": "org-1", "name": "Duplicate id"},
        ],
        "services": [
            {"id": "svc-1", "organization_id": "org-1", "name": "Fine service"},
            {"id": "svc-2", "organization_id": "nowhere", "name": "Orphan", "status": "sleeping"},
        ],
        "locations": [{"id": "loc-1", "organization_id": "org-1"}],
        "contacts": [{"id": "c-1", "service_id": "svc-9", "name": "Nobody"}],
        "service_at_location": [{"id": "sal-1", "service_id": "svc-1", "location_id": "loc-404"}],
    }


def test_a_bad_import_is_refused_with_every_problem_by_item_and_field_and_nothing_written(agency, admin):
    with agency_scope(agency), pytest.raises(hsds.DirectoryImportError) as raised:
        hsds.import_directory(agency, admin, broken_file())
    problems = {(p.item, p.field) for p in raised.value.items}
    assert {
        ("organizations[1]", "name"),
        ("organizations[1]", "email"),
        ("organizations[2]", "id"),
        ("services[1]", "organization_id"),
        ("services[1]", "status"),
        ("locations[0]", "name"),
        ("contacts[0]", "service_id"),
        ("service_at_location[0]", "location_id"),
    } <= problems
    assert rows(agency, DirectoryOrganisation) == [] and rows(agency, DirectoryService) == []


def upload(data: bytes, name: str = "directory.json") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/json")


def test_the_import_page_loads_a_file_and_lists_the_problems_of_a_bad_one(agency, as_user, manager):
    client = as_user(manager)
    bad = client.post(reverse("casework:directory_import"), {"file": upload(json.dumps(broken_file()).encode())})
    assert bad.status_code == 400
    assert "services[1]" in bad.text and "organization_id" in bad.text and "Nothing was changed" in bad.text
    assert rows(agency, DirectoryOrganisation) == []

    not_json = client.post(reverse("casework:directory_import"), {"file": upload(b"\x89PNG\r\n", "directory.json")})
    assert not_json.status_code == 400 and "not JSON" in not_json.text

    good = {
        "organizations": [{"id": "o", "name": "Settlement Services"}],
        "services": [{"id": "s", "organization_id": "o", "name": "Orientation"}],
    }
    response = client.post(reverse("casework:directory_import"), {"file": upload(json.dumps(good).encode())})
    assert response.status_code == 302
    assert [o.name for o in rows(agency, DirectoryOrganisation)] == ["Settlement Services"]


def test_parse_file_refuses_what_is_not_one_json_object():
    for raw in (b"[1, 2]", b"{oops", "é".encode("latin-1")):
        with pytest.raises(ValidationError) as error:
            hsds.parse_file(raw)
        assert "file" in error.value.message_dict
    assert hsds.parse_file(io.BytesIO(b'\xef\xbb\xbf{"organizations": []}').read()) == {"organizations": []}
