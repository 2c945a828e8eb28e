"""The referral pages: the new-referral form, a referral's page and its buttons, the agency's list, the client's tab."""

from __future__ import annotations

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse

from caseload.casework import referrals
from caseload.casework.models import ServiceReferral
from caseload.casework.tests.referral_helpers import (  # noqa: F401 (fixtures)
    FOLLOW_UP,
    REASON,
    amina_fixture,
    bruno_fixture,
    food_bank_fixture,
    fresh,
    in_scope,
    job_club_fixture,
    make_directory,
    refer,
    register,
)
from caseload.tenancy.models import Membership
from caseload.tenancy.scoping import agency_scope
from caseload.testing.factories import make_member

pytestmark = pytest.mark.django_db

Status = ServiceReferral.Status


def referrals_of(client) -> list[ServiceReferral]:
    with agency_scope(client.agency):
        return list(ServiceReferral.objects.for_agency(client.agency).filter(client=client).order_by("pk"))


def form_data(**data):
    return {"kind": "external", "reason": REASON, "referred_on": "2030-03-01", **data}


# --- The new referral --------------------------------------------------------------------------


def test_the_form_offers_the_programs_and_the_directory_by_organisation(agency, as_user, caseworker, amina, food_bank, job_club):
    make_directory(agency, "Community Legal Clinic")
    page = as_user(caseworker).get(reverse("casework:referral_new", args=[amina.pk]))
    assert page.status_code == 200
    assert "Job Club" in page.text
    assert '<optgroup label="North York Food Bank">' in page.text and '<optgroup label="Community Legal Clinic">' in page.text
    assert "Main depot — 116 Industry St, Toronto" in page.text
    assert 'hx-get="' in page.text  # htmx narrows the locations and contacts to the service's organisation


def test_htmx_narrows_locations_and_contacts_to_the_chosen_service(agency, as_user, caseworker, amina, food_bank):
    clinic = make_directory(agency, "Community Legal Clinic")
    page = as_user(caseworker).get(
        reverse("casework:referral_new", args=[amina.pk]), {"service": food_bank.service.pk}, HTTP_HX_REQUEST="true"
    )
    where = page.text.split('id="referral-where"')[1].split("</fieldset>")[0]
    assert "Main depot" in where and f'value="{clinic.location.pk}"' not in where


def test_an_internal_referral_is_made_from_the_form(agency, as_user, caseworker, amina, job_club):
    response = as_user(caseworker).post(
        reverse("casework:referral_new", args=[amina.pk]),
        form_data(kind="internal", to_program=job_club.pk, follow_up_on="2030-03-10"),
    )
    [referral] = referrals_of(amina)
    assert response.status_code == 302 and response["Location"] == reverse("casework:referral_detail", args=[referral.pk])
    assert (referral.kind, referral.to_program, referral.follow_up_on.isoformat()) == ("internal", job_club, "2030-03-10")


def test_an_external_referral_is_made_from_the_form_and_other_kinds_fields_are_ignored(
    agency, as_user, caseworker, amina, food_bank, job_club
):
    response = as_user(caseworker).post(
        reverse("casework:referral_new", args=[amina.pk]),
        form_data(
            service=food_bank.service.pk, location=food_bank.location.pk, contact=food_bank.contact.pk, to_program=job_club.pk
        ),
    )
    assert response.status_code == 302
    [referral] = referrals_of(amina)
    assert (referral.service, referral.location, referral.contact, referral.to_program) == (
        food_bank.service,
        food_bank.location,
        food_bank.contact,
        None,
    )


def test_the_remind_client_box_is_disabled_with_the_reason_without_consent(as_user, caseworker, amina, bruno, food_bank):
    page = as_user(caseworker).get(reverse("casework:referral_new", args=[bruno.pk]))
    box = (
        page.text.split('name="remind_client"')[0].rsplit("<input", 1)[1]
        + page.text.split('name="remind_client"')[1].split(">")[0]
    )
    assert "disabled" in box
    assert "has not agreed to be contacted" in page.text
    # A forged POST does not turn it on either.
    as_user(caseworker).post(
        reverse("casework:referral_new", args=[bruno.pk]),
        form_data(service=food_bank.service.pk, follow_up_on="2030-03-10", remind_client="on"),
    )
    assert referrals_of(bruno)[0].remind_client is False

    page = as_user(caseworker).get(reverse("casework:referral_new", args=[amina.pk]))
    assert "disabled" not in page.text.split('name="remind_client"')[1].split(">")[0]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "internal"}, "to_program"),
        ({"kind": "external", "service": ""}, "service"),
        ({"service": "999999"}, "service"),
        ({"reason": ""}, "reason"),
        ({"follow_up_on": "2030-02-01"}, "follow_up_on"),
        ({"follow_up_on": "not a date"}, "follow_up_on"),
    ],
)
def test_bad_input_is_a_form_error_naming_the_field(as_user, caseworker, amina, food_bank, data, field):
    data = {"service": food_bank.service.pk, **data}
    response = as_user(caseworker).post(reverse("casework:referral_new", args=[amina.pk]), form_data(**data))
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in response.text
    assert referrals_of(amina) == []


def test_another_agencys_service_is_an_invalid_choice(other_agency, as_user, caseworker, amina, food_bank):
    theirs = make_directory(other_agency, "Their food bank")
    response = as_user(caseworker).post(reverse("casework:referral_new", args=[amina.pk]), form_data(service=theirs.service.pk))
    assert response.status_code == 400 and 'id="id_service_error"' in response.text
    assert referrals_of(amina) == []


def test_making_a_referral_needs_casework_change_and_the_agencys_client(as_user, auditor, outsider, amina):
    url = reverse("casework:referral_new", args=[amina.pk])
    assert as_user(auditor).get(url).status_code == 403
    assert as_user(auditor).post(url, form_data()).status_code == 403
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, form_data()).status_code == 404


def test_the_actions_menu_offers_refer_to_a_service(as_user, caseworker, auditor, amina):
    url = reverse("casework:referral_new", args=[amina.pk])
    assert url in as_user(caseworker).get(reverse("clients:detail", args=[amina.pk])).text
    assert url not in as_user(auditor).get(reverse("clients:detail", args=[amina.pk])).text


# --- One referral ------------------------------------------------------------------------------


def test_the_referral_page_shows_everything_and_the_next_steps(agency, as_user, caseworker, amina, food_bank):
    referral = refer(
        amina,
        caseworker,
        kind="external",
        service=food_bank.service,
        location=food_bank.location,
        contact=food_bank.contact,
        follow_up_on=FOLLOW_UP,
    )
    page = as_user(caseworker).get(reverse("casework:referral_detail", args=[referral.pk]))
    assert page.status_code == 200
    for text in (
        "Emergency groceries",
        "North York Food Bank",
        "Main depot",
        "Marie Tremblay",
        "416-555-0122",
        REASON,
        "Did the service answer?",
        'aria-current="step"',
    ):
        assert text in page.text
    assert reverse("casework:referral_respond", args=[referral.pk]) in page.text
    assert reverse("casework:referral_close", args=[referral.pk]) not in page.text
    ribbon = page.text.split('class="card client-ribbon"')[1].split("</section>")[0]
    assert "tel:+14165550177" in ribbon and "416-555-0122" not in ribbon  # the client's phone, not the service's


def test_the_buttons_move_the_referral_through_its_steps(agency, as_user, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    client = as_user(caseworker)

    assert client.post(reverse("casework:referral_respond", args=[referral.pk]), {"status": "accepted"}).status_code == 302
    assert fresh(referral).status == Status.ACCEPTED
    page = client.get(reverse("casework:referral_detail", args=[referral.pk]))
    assert "How did it go?" in page.text and reverse("casework:referral_close", args=[referral.pk]) in page.text

    missing = client.post(reverse("casework:referral_close", args=[referral.pk]), {"status": "completed", "outcome": ""})
    assert missing.status_code == 400 and 'id="id_outcome_error"' in missing.text
    done = client.post(
        reverse("casework:referral_close", args=[referral.pk]), {"status": "completed", "outcome": "Got a food hamper."}
    )
    assert done.status_code == 302
    assert (fresh(referral).status, fresh(referral).outcome) == (Status.COMPLETED, "Got a food hamper.")
    assert "Got a food hamper." in client.get(reverse("casework:referral_detail", args=[referral.pk])).text

    # A step that no longer applies sends back to the referral, changing nothing.
    again = client.post(reverse("casework:referral_respond", args=[referral.pk]), {"status": "declined"})
    assert again.status_code == 302 and fresh(referral).status == Status.COMPLETED

    client.post(reverse("casework:referral_outcome", args=[referral.pk]), {"outcome": "Got a hamper; goes weekly now."})
    assert fresh(referral).outcome == "Got a hamper; goes weekly now."


def test_decline_no_show_and_cancel_from_their_pages(agency, as_user, caseworker, amina, food_bank):
    client = as_user(caseworker)
    declined = refer(amina, caseworker, kind="external", service=food_bank.service)
    assert (
        client.get(reverse("casework:referral_respond", args=[declined.pk]), {"status": "declined"}).status_code == 200
    )  # the page without JavaScript
    client.post(reverse("casework:referral_respond", args=[declined.pk]), {"status": "declined", "note": "Full until June."})
    assert (fresh(declined).status, fresh(declined).outcome) == (Status.DECLINED, "Full until June.")

    no_show = refer(amina, caseworker, kind="external", service=food_bank.service)
    client.post(reverse("casework:referral_respond", args=[no_show.pk]), {"status": "accepted"})
    client.post(reverse("casework:referral_close", args=[no_show.pk]), {"status": "no_show"})
    assert fresh(no_show).status == Status.NO_SHOW

    cancelled = refer(amina, caseworker, kind="external", service=food_bank.service)
    client.post(reverse("casework:referral_cancel", args=[cancelled.pk]), {"note": ""})
    assert fresh(cancelled).status == Status.CANCELLED


def test_editing_and_deleting_a_referral(agency, as_user, caseworker, amina, food_bank):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    client = as_user(caseworker)
    edited = client.post(
        reverse("casework:referral_edit", args=[referral.pk]),
        form_data(service=food_bank.service.pk, reason="Groceries and baby formula."),
    )
    assert edited.status_code == 302 and fresh(referral).reason == "Groceries and baby formula."

    assert client.get(reverse("casework:referral_delete", args=[referral.pk])).status_code == 200
    gone = client.post(reverse("casework:referral_delete", args=[referral.pk]))
    assert gone.status_code == 302 and gone["Location"] == reverse("casework:client_tasks", args=[amina.pk])
    assert fresh(referral).deleted_at is not None
    assert client.get(reverse("casework:referral_detail", args=[referral.pk])).status_code == 404


@pytest.mark.parametrize(
    "name", ["referral_respond", "referral_close", "referral_cancel", "referral_edit", "referral_delete", "referral_outcome"]
)
def test_changing_a_referral_needs_casework_change_and_another_agencys_is_a_404(
    as_user, caseworker, auditor, outsider, amina, food_bank, name
):
    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    url = reverse(f"casework:{name}", args=[referral.pk])
    assert as_user(auditor).get(url).status_code == 403
    assert as_user(auditor).post(url, {"status": "accepted"}).status_code == 403
    assert as_user(outsider).get(url).status_code == 404
    assert as_user(outsider).post(url, {"status": "accepted"}).status_code == 404
    assert fresh(referral).status == Status.SENT and fresh(referral).deleted_at is None


def test_reading_a_referral_needs_casework_view_and_is_audited(agency, as_user, caseworker, auditor, outsider, amina, food_bank):
    from caseload.audit.models import AuditEvent

    referral = refer(amina, caseworker, kind="external", service=food_bank.service)
    url = reverse("casework:referral_detail", args=[referral.pk])
    page = as_user(auditor).get(url)
    assert page.status_code == 200 and reverse("casework:referral_respond", args=[referral.pk]) not in page.text
    assert as_user(outsider).get(url).status_code == 404
    front_desk = make_member(agency, "Front desk").user
    assert as_user(front_desk).get(url).status_code == 403
    with agency_scope(agency):
        assert (
            AuditEvent.objects.for_agency(agency)
            .filter(action="view", object_type="casework.servicereferral", client_id=amina.pk, actor=auditor)
            .exists()
        )


# --- The agency's list and the client's tab ----------------------------------------------------


def test_the_list_shows_open_referrals_awaiting_an_answer_first(
    agency, as_user, caseworker, manager, amina, bruno, food_bank, job_club
):
    accepted = refer(amina, caseworker, kind="internal", to_program=job_club, referred_on=FOLLOW_UP)
    in_scope(agency, referrals.respond_referral, accepted, caseworker, "accepted")
    refer(bruno, caseworker, kind="external", service=food_bank.service)
    closed = refer(bruno, manager, kind="external", service=food_bank.service)
    in_scope(agency, referrals.cancel_referral, closed, manager)

    page = as_user(caseworker).get(reverse("casework:referrals"))
    assert page.status_code == 200
    assert page.text.index("Emergency groceries") < page.text.index("Job Club")  # awaiting an answer first
    assert page.text.count(">Cancelled<") == 0

    cancelled = as_user(caseworker).get(reverse("casework:referrals"), {"status": "closed"})
    assert cancelled.text.count(">Cancelled<") == 1
    mine = as_user(manager).get(reverse("casework:referrals"), {"status": "all", "mine": "1"})
    assert len(re.findall(r'href="/referrals/\d+/"', mine.text)) == 1
    assert as_user(caseworker).get(reverse("casework:referrals"), {"status": "nonsense", "sort": "nonsense"}).status_code == 200


def test_the_list_needs_casework_view(agency, as_user, outsider, caseworker, amina, food_bank):
    refer(amina, caseworker, kind="external", service=food_bank.service)
    assert "Amina" not in as_user(outsider).get(reverse("casework:referrals")).text
    assert as_user(make_member(agency, "Front desk").user).get(reverse("casework:referrals")).status_code == 403


def test_the_client_tab_lists_the_clients_referrals(agency, as_user, caseworker, amina, bruno, food_bank):
    mine = refer(amina, caseworker, kind="external", service=food_bank.service)
    refer(bruno, caseworker, kind="external", service=food_bank.service)
    page = as_user(caseworker).get(reverse("casework:client_tasks", args=[amina.pk]))
    assert page.status_code == 200
    assert reverse("casework:referral_detail", args=[mine.pk]) in page.text
    assert reverse("casework:referral_new", args=[amina.pk]) in page.text
    assert page.text.count("casework/referrals/") == 0


def test_client_referrals_context_lists_open_ones_first_and_offers_new_only_with_casework_change(
    agency, caseworker, auditor, amina, food_bank
):
    closed = refer(amina, caseworker, kind="external", service=food_bank.service)
    in_scope(agency, referrals.cancel_referral, closed, caseworker)
    open_one = refer(amina, caseworker, kind="external", service=food_bank.service)

    def context_for(user):
        request = RequestFactory().get("/")
        request.agency, request.user = agency, user
        request.membership = Membership.objects.for_agency(agency).select_related("role").get(user=user)
        return in_scope(agency, referrals.client_referrals_context, request, amina)

    context = context_for(caseworker)
    assert [r.pk for r in context["client_referrals"]] == [open_one.pk, closed.pk]
    assert context["client_referrals_open"] == 1 and context["can_refer"] and context["new_referral_url"]
    assert context["client_referrals"][0].target == "Emergency groceries"
    assert context_for(auditor)["new_referral_url"] == ""


def test_the_list_pages_run_the_same_queries_whatever_the_number_of_rows(agency, as_user, caseworker, amina, food_bank):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(caseworker)

    def queries(url: str) -> int:
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    refer(amina, caseworker, kind="external", service=food_bank.service, location=food_bank.location, contact=food_bank.contact)
    urls = [reverse("casework:referrals"), reverse("casework:directory"), reverse("casework:client_tasks", args=[amina.pk])]
    before = [queries(url) for url in urls]
    for n in range(5):
        refer(
            amina, caseworker, kind="external", service=food_bank.service, location=food_bank.location, contact=food_bank.contact
        )
        make_directory(agency, f"Organisation {n}")
    assert [queries(url) for url in urls] == before


def test_a_merged_profile_cannot_be_referred(agency, as_user, caseworker, amina):
    other = register(agency, given_name="Amina", family_name="H.")
    from caseload.clients.merging import merge_clients

    in_scope(agency, merge_clients, other, amina, None, "Same person")
    response = as_user(caseworker).get(reverse("casework:referral_new", args=[amina.pk]))
    assert response.status_code == 302
