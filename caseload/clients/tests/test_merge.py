"""Merging two profiles and taking the merge back (clients.merge, administrators)."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.clients import merging
from caseload.clients.models import (
    Assignment,
    Client,
    ClientPhone,
    ClientSearchKey,
    Enrolment,
    IncomingReferral,
    Merge,
    PrivacyConsent,
    PrivacyStatement,
    Referral,
    SafetyFlag,
)
from caseload.tenancy.models import Program
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_agency, make_member


def program(agency, name="LINC"):
    return Program.objects.create(agency=agency, name=name)


def attach_one_of_each(agency, client, staff, prog, statement) -> dict[str, list]:
    """One row of every kind of record that points at a client, keyed by model label."""
    other_agency = make_agency()
    rows = {
        "clients.clientphone": [ClientPhone.objects.create(agency=agency, client=client, number="+14165550199")],
        "clients.privacyconsent": [
            PrivacyConsent.objects.create(agency=agency, client=client, statement=statement, accepted=True)
        ],
        "clients.enrolment": [Enrolment.objects.create(agency=agency, client=client, program=prog)],
        "clients.assignment": [Assignment.objects.create(agency=agency, client=client, staff=staff, is_primary=True)],
        "clients.safetyflag": [SafetyFlag.objects.create(agency=agency, client=client, reason="Threatened staff")],
        "clients.referral": [
            Referral.objects.create(
                agency=agency,
                client=client,
                kind=Referral.Kind.EXTERNAL,
                organisation="Food bank",
                reason="Groceries",
                status="recorded",
            )
        ],
        "clients.incomingreferral": [
            IncomingReferral.objects.create(
                agency=agency,
                from_agency=other_agency,
                source_referral_id=1,
                client_summary="A. B.",
                reason="Work",
                client=client,
            )
        ],
        **casework_rows(agency, client, staff, prog),
        **delivery_rows(agency, client, staff, prog),
        **documents_rows(agency, client, staff, prog),
        **outcomes_rows(agency, client, staff, prog),
    }
    Client.objects.filter(pk=client.pk).update(has_safety_flag=True)
    return rows


def casework_rows(agency, client, staff, prog) -> dict[str, list]:
    """One of each casework record (and the client's outbox messages), as the casework app stores them."""
    from caseload.casework.models import (
        CaseNote,
        ClientList,
        ClientListEntry,
        Communication,
        DirectoryOrganisation,
        DirectoryService,
        ServiceReferral,
        SupportiveService,
        SupportServiceType,
        Task,
    )
    from caseload.messaging.models import OutboundMessage

    saved = ClientList.objects.create(agency=agency, name="Follow up this week", owner=staff)
    organisation = DirectoryOrganisation.objects.create(agency=agency, name="Food bank")
    service = DirectoryService.objects.create(agency=agency, organisation=organisation, name="Groceries")
    transport, _created = SupportServiceType.objects.get_or_create(agency=agency, name="Transportation")
    return {
        "casework.casenote": [
            CaseNote.objects.create(agency=agency, client=client, author=staff, body="Called about the course.")
        ],
        "casework.communication": [Communication.objects.create(agency=agency, client=client, author=staff, kind="phone")],
        "casework.supportiveservice": [SupportiveService.objects.create(agency=agency, client=client, service_type=transport)],
        "casework.task": [Task.objects.create(agency=agency, client=client, title="Bring the lease", assigned_to=staff)],
        "casework.servicereferral": [
            ServiceReferral.objects.create(agency=agency, client=client, kind="internal", to_program=prog, reason="LINC class"),
            ServiceReferral.objects.create(agency=agency, client=client, kind="external", service=service, reason="Groceries"),
        ],
        "casework.clientlistentry": [ClientListEntry.objects.create(agency=agency, client_list=saved, client=client)],
        "messaging.outboundmessage": [
            OutboundMessage.objects.create(
                agency=agency, client=client, channel="email", to="amina@example.org", subject="Hi", body="Hello"
            )
        ],
    }


def delivery_rows(agency, client, staff, prog) -> dict[str, list]:
    """One of each service-delivery record and form answer about the client."""
    from caseload.delivery.models import Attendee, ServiceRecord, Session, SettlementPlan
    from caseload.formbuilder.models import FormDefinition, FormExtension, FormFile, ProfileAnswers

    direct = Session.objects.create(agency=agency, session_type="direct", client=client, program=prog)
    group = Session.objects.create(agency=agency, session_type="io_group", program=prog)
    form = FormDefinition.objects.get(key="non_specified", version=1)
    extension = FormExtension.objects.create(agency=agency, form_key="client_profile", version=1, fields=[])
    return {
        "delivery.session": [direct],
        "delivery.attendee": [Attendee.objects.create(agency=agency, session=group, client=client)],
        "delivery.servicerecord": [
            ServiceRecord.objects.create(agency=agency, session=direct, client=client, program=prog, definition=form)
        ],
        "delivery.settlementplan": [SettlementPlan.objects.create(agency=agency, client=client, title="Settling in")],
        "formbuilder.formfile": [
            FormFile.objects.create(agency=agency, client=client, file="forms/x", original_name="id.pdf", size=10)
        ],
        "formbuilder.profileanswers": [ProfileAnswers.objects.create(agency=agency, client=client, extension=extension)],
    }


def outcomes_rows(agency, client, staff, prog) -> dict[str, list]:
    """A placement into Outcomes and one of its checkpoints."""
    from caseload.formbuilder.models import FormDefinition
    from caseload.outcomes.models import Checkpoint, Placement

    placement = Placement.objects.create(
        agency=agency,
        client=client,
        program=prog,
        exit_date=datetime.date(2026, 1, 31),
        exit_reason="completed",
        employment_status="unemployed",
    )
    survey = FormDefinition.objects.get(key="outcome_survey", version=1)
    checkpoint = Checkpoint.objects.create(
        agency=agency, placement=placement, client=client, program=prog, months=1, due_on=datetime.date(2026, 2, 28), survey=survey
    )
    return {"outcomes.placement": [placement], "outcomes.checkpoint": [checkpoint]}


def documents_rows(agency, client, staff, prog) -> dict[str, list]:
    """One document in the client's archive (its links point at records, not at the client)."""
    from caseload.documents.models import Document, DocumentType

    resume, _created = DocumentType.objects.get_or_create(agency=agency, name="Resume")
    document = Document.objects.create(
        agency=agency, client=client, document_type=resume, file="documents/x", original_name="cv.pdf", size=10
    )
    return {"documents.document": [document]}


@pytest.fixture
def setup(agency, register):
    staff = make_member(agency, "Caseworker")
    with agency_scope(agency):
        statement = PrivacyStatement.objects.create(agency=agency, version="1", text="We keep your data safe.")
        prog = program(agency)
        kept = register(agency, given_name="Amina", family_name="Haddad", date_of_birth=datetime.date(1985, 3, 12))
        merged = register(
            agency, given_name="Aminah", family_name="Hadad", email="amina@example.org", phone="416 555 0142", city="Toronto"
        )
    return {"agency": agency, "staff": staff, "statement": statement, "program": prog, "kept": kept, "merged": merged}


def test_every_relation_to_a_client_is_found_generically():
    labels = {(r.label, r.field.name) for r in merging.client_relations()}
    assert ("clients.assignment", "client") in labels
    assert ("clients.incomingreferral", "client") in labels
    assert not any(label == "clients.merge" for label, _ in labels)
    assert not any(label == "clients.client" for label, _ in labels)
    # Every relation Django knows of is among them.
    for rel in Client._meta.related_objects:
        if rel.related_model not in (Merge, Client, ClientSearchKey):
            assert (rel.related_model._meta.label_lower, rel.field.name) in labels


def test_it_moves_every_attached_record_and_unmerge_puts_each_back(setup, admin):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        rows = attach_one_of_each(agency, merged, setup["staff"], setup["program"], setup["statement"])
        # The fixture covers every kind of record that exists: a model added later fails here until covered.
        assert {r.label for r in merging.client_relations()} <= set(rows), "attach_one_of_each misses a kind of client record"
        merged.refresh_from_db()
        kept_before, merged_before = merging._profile(Client.objects.get(pk=kept.pk)), merging._profile(merged)

        merge = merging.merge_clients(kept, merged, admin, "Same person, registered twice")

        for label, instances in rows.items():
            for row in instances:
                row.refresh_from_db()
                assert row.client_id == kept.pk, label
        kept.refresh_from_db()
        merged.refresh_from_db()
        assert merged.status == Client.Status.MERGED and merged.merged_into_id == kept.pk
        # The kept profile's gaps are filled from the merged one; what it had stays.
        assert (kept.given_name, kept.email, kept.phone, kept.city) == ("Amina", "amina@example.org", "+14165550142", "Toronto")
        assert kept.has_safety_flag and not merged.has_safety_flag
        assert len(merge.moved) == sum(map(len, rows.values())) and not any(entry.get("stayed") for entry in merge.moved)

        merging.unmerge(merge, admin)

        for label, instances in rows.items():
            for row in instances:
                row.refresh_from_db()
                assert row.client_id == merged.pk, label
        kept.refresh_from_db()
        merged.refresh_from_db()
        assert merging._profile(kept) == kept_before
        assert merging._profile(merged) == merged_before
        assert merged.has_safety_flag and not kept.has_safety_flag
        merge.refresh_from_db()
        assert merge.undone_at is not None and merge.undone_by == admin


def test_rows_that_would_break_a_uniqueness_rule_stay_on_the_merged_profile_and_come_back(setup, admin):
    agency, kept, merged, staff = setup["agency"], setup["kept"], setup["merged"], setup["staff"]
    other_staff = make_member(agency, "Caseworker")
    with agency_scope(agency):
        Assignment.objects.create(agency=agency, client=kept, staff=staff, is_primary=True)
        same_staff = Assignment.objects.create(agency=agency, client=merged, staff=staff, is_primary=False)
        second_primary = Assignment.objects.create(agency=agency, client=merged, staff=other_staff, is_primary=True)
        SafetyFlag.objects.create(agency=agency, client=kept, reason="One")
        flag = SafetyFlag.objects.create(agency=agency, client=merged, reason="Two")
        Enrolment.objects.create(agency=agency, client=kept, program=setup["program"])
        enrolment = Enrolment.objects.create(agency=agency, client=merged, program=setup["program"])

        merge = merging.merge_clients(kept, merged, admin)

        for row in (same_staff, second_primary, flag, enrolment):
            row.refresh_from_db()
        assert same_staff.client_id == merged.pk and flag.client_id == merged.pk and enrolment.client_id == merged.pk
        assert second_primary.client_id == kept.pk and not second_primary.is_primary
        assert {row["label"] for row in merging.stayed_rows(merge)} == {"staff assignment", "safety flag", "enrolment"}

        merging.unmerge(merge, admin)
        second_primary.refresh_from_db()
        assert second_primary.client_id == merged.pk and second_primary.is_primary


def test_the_portal_account_and_cams_number_move_to_the_kept_profile_and_back(setup, admin):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    user = User.objects.create_user(email="amina.portal@example.org", password="x" * 16)
    with agency_scope(agency):
        Client.objects.filter(pk=merged.pk).update(portal_user=user, cams_number="12345678", cams_linked_at=timezone.now())
        merge = merging.merge_clients(kept, merged, admin)
        kept.refresh_from_db()
        merged.refresh_from_db()
        assert kept.portal_user_id == user.pk and kept.cams_number == "12345678" and kept.cams_linked_at is not None
        assert merged.portal_user_id is None and merged.cams_number == ""
        merging.unmerge(merge, admin)
        kept.refresh_from_db()
        merged.refresh_from_db()
        assert kept.portal_user_id is None and kept.cams_number == "" and kept.cams_linked_at is None
        assert merged.portal_user_id == user.pk and merged.cams_number == "12345678"


def test_only_the_latest_merge_of_a_profile_can_be_undone(setup, admin, register):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    third = register(agency, given_name="Amina", family_name="Haddad-Ali")
    with agency_scope(agency):
        first = merging.merge_clients(kept, merged, admin)
        second = merging.merge_clients(kept, third, admin)
        with pytest.raises(ValidationError, match="later merge"):
            merging.unmerge(first, admin)
        merging.unmerge(second, admin)
        merging.unmerge(first, admin)
        with pytest.raises(ValidationError):
            merging.unmerge(first, admin)


def test_it_refuses_merging_a_profile_with_itself_or_a_merged_one(setup, admin, register):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        with pytest.raises(ValidationError) as error:
            merging.merge_clients(kept, kept, admin)
        assert "other" in error.value.message_dict
        merging.merge_clients(kept, merged, admin)
        with pytest.raises(ValidationError):
            merging.merge_clients(kept, Client.objects.get(pk=merged.pk), admin)


def test_a_merge_is_audited_on_both_clients(setup, admin):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        merge = merging.merge_clients(kept, merged, admin, "Duplicate")
        events = AuditEvent.objects.for_agency(agency).filter(object_type="clients.merge", object_id=str(merge.pk))
        assert set(events.values_list("client_id", flat=True)) == {kept.pk, merged.pk}
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(object_type="clients.client", object_id=str(merged.pk), action="change")
            .exists()
        )
        merging.unmerge(merge, admin)
        assert events.filter(action="change").count() == 2


# --- Pages -------------------------------------------------------------------------------------


def test_the_merged_profile_leaves_the_list_and_shows_where_it_went(setup, admin, as_user):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        merging.merge_clients(kept, merged, admin)
    client = as_user(admin)
    merged_url = reverse("clients:detail", args=[merged.pk])
    assert merged_url not in client.get(reverse("clients:list")).content.decode()
    search = client.get(reverse("clients:list"), {"q": "Aminah Hadad"}).content.decode()
    assert merged_url not in search and reverse("clients:detail", args=[kept.pk]) in search
    page = client.get(reverse("clients:detail", args=[merged.pk])).content.decode()
    assert "This profile was merged into" in page and reverse("clients:detail", args=[kept.pk]) in page


def test_the_merged_profile_is_read_only(setup, admin, as_user):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        merging.merge_clients(kept, merged, admin)
    client = as_user(admin)
    edit_url, consent_url = reverse("clients:edit", args=[merged.pk]), reverse("clients:consent", args=[merged.pk])
    page = client.get(reverse("clients:detail", args=[merged.pk])).content.decode()
    assert edit_url not in page and consent_url not in page

    response = client.post(edit_url, {"given_name": "Changed", "family_name": "Name"})
    assert response.status_code == 302 and response["Location"] == reverse("clients:detail", args=[merged.pk])
    assert "merged into another one" in client.get(response["Location"]).content.decode()
    assert client.get(consent_url).status_code == 302
    merged.refresh_from_db()
    assert merged.given_name == "Aminah"


def test_an_administrator_merges_from_the_comparison_page_and_undoes_it(setup, admin, as_user):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    client = as_user(admin)
    detail = client.get(reverse("clients:detail", args=[kept.pk])).content.decode()
    assert reverse("clients:merge", args=[kept.pk]) in detail
    found = client.get(reverse("clients:merge", args=[kept.pk]), {"q": "Hadad"})
    assert f"?other={merged.pk}" in found.content.decode()
    compare = client.get(reverse("clients:merge", args=[kept.pk]), {"other": merged.pk})
    assert compare.status_code == 200 and "amina@example.org" in compare.content.decode()
    with agency_scope(agency):
        assert AuditEvent.objects.for_agency(agency).filter(action="view", client_id=merged.pk).exists()

    missing_reason = client.post(
        reverse("clients:merge", args=[kept.pk]), {"other": merged.pk, "keep": str(merged.pk), "reason": ""}
    )
    assert missing_reason.status_code == 400
    with agency_scope(agency):
        assert not Merge.objects.for_agency(agency).exists()

    response = client.post(
        reverse("clients:merge", args=[kept.pk]), {"other": merged.pk, "keep": str(merged.pk), "reason": "Same person"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("clients:detail", args=[merged.pk])
    with agency_scope(agency):
        merge = Merge.objects.for_agency(agency).get()
    assert (merge.kept_id, merge.merged_id) == (merged.pk, kept.pk)

    history = client.get(reverse("clients:merge_list")).content.decode()
    assert reverse("clients:merge_undo", args=[merge.pk]) in history
    assert client.get(reverse("clients:merge_undo", args=[merge.pk])).status_code == 200
    assert client.post(reverse("clients:merge_undo", args=[merge.pk])).status_code == 302
    with agency_scope(agency):
        merge.refresh_from_db()
        assert merge.undone_at is not None
        assert Client.objects.get(pk=kept.pk).status == Client.Status.ACTIVE


@pytest.mark.parametrize("role", ["Manager", "Caseworker", "Front desk", "Read-only auditor"])
def test_other_roles_get_no_merge_entry_and_a_403(setup, as_user, role):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    user = make_member(agency, role).user
    client = as_user(user)
    assert reverse("clients:merge", args=[kept.pk]) not in client.get(reverse("clients:detail", args=[kept.pk])).content.decode()
    assert client.get(reverse("clients:merge", args=[kept.pk])).status_code == 403
    assert (
        client.post(
            reverse("clients:merge", args=[kept.pk]), {"other": merged.pk, "keep": str(kept.pk), "reason": "x"}
        ).status_code
        == 403
    )
    assert client.get(reverse("clients:merge_list")).status_code == 403


def test_another_agencys_profiles_and_merges_are_404(setup, admin, outsider, as_user):
    agency, kept, merged = setup["agency"], setup["kept"], setup["merged"]
    with agency_scope(agency):
        merge = merging.merge_clients(kept, merged, admin)
    client = as_user(outsider)
    assert client.get(reverse("clients:merge", args=[kept.pk])).status_code == 404
    assert client.post(reverse("clients:merge_undo", args=[merge.pk])).status_code == 404


def test_a_profile_of_another_agency_cannot_be_chosen_as_the_other(setup, admin, other_agency, register, as_user):
    stranger = register(other_agency, given_name="Amina", family_name="Haddad")
    client = as_user(admin)
    response = client.get(reverse("clients:merge", args=[setup["kept"].pk]), {"other": stranger.pk})
    assert response.status_code == 302
    with agency_scope(other_agency):
        assert Client.objects.for_agency(other_agency).get(pk=stranger.pk).status == Client.Status.ACTIVE


# --- API ---------------------------------------------------------------------------------------


def test_the_api_merges_lists_and_undoes(setup, admin, api):
    kept, merged = setup["kept"], setup["merged"]
    api.as_user(admin)
    response = api.post(f"/api/v1/clients/{kept.pk}/merge/", {"other": merged.pk, "reason": "Same person"}, format="json")
    assert response.status_code == 201, response.content
    merge_id = response.json()["id"]
    assert response.json()["kept"] == kept.pk and response.json()["merged"] == merged.pk
    assert [row["id"] for row in api.get("/api/v1/merges/").json()["results"]] == [merge_id]
    assert api.post(f"/api/v1/merges/{merge_id}/undo/").status_code == 200
    again = api.post(f"/api/v1/merges/{merge_id}/undo/")
    assert again.status_code == 400


def test_the_api_names_the_other_field_when_it_is_not_a_profile_of_the_agency(setup, admin, other_agency, register, api):
    stranger = register(other_agency, given_name="Amina", family_name="Haddad")
    response = api.as_user(admin).post(f"/api/v1/clients/{setup['kept'].pk}/merge/", {"other": stranger.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "other"


def test_the_api_refuses_merging_to_other_roles(setup, manager, api):
    response = api.as_user(manager).post(
        f"/api/v1/clients/{setup['kept'].pk}/merge/", {"other": setup["merged"].pk}, format="json"
    )
    assert response.status_code == 403
    assert api.get("/api/v1/merges/").status_code == 403


def test_the_merge_page_suggests_likely_duplicates_before_any_search(setup, admin, register, as_user):
    twin = register(setup["agency"], given_name="Amina", family_name="Hadad", date_of_birth=datetime.date(1985, 3, 12))
    page = as_user(admin).get(reverse("clients:merge", args=[setup["kept"].pk])).content.decode()
    assert f"?other={twin.pk}" in page and f"?other={setup['kept'].pk}" not in page
