"""Every URL of the project, for every kind of visitor: never a 500, never another agency's row.

The sweep walks the whole URL configuration, so pages other apps add are covered as soon as
they exist. URLs without arguments are opened as they are. URLs taking a ``pk`` need a row of
the agency: ``OBJECT_FACTORIES`` makes one per URL name (API viewsets find theirs through their
model in ``MODEL_FACTORIES``). Any other argument cannot be guessed: such URLs are listed in
``SKIPPED`` with the reason and where they are tested. A new URL that fits none of these fails
``test_every_url_with_arguments_is_swept_or_skipped_with_a_reason``: add its entry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.db import models
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from caseload.audit.actions import Action, record
from caseload.audit.models import AuditEvent
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Funder, Membership, Program, Role
from caseload.tenancy.roles import SEEDED_ROLES
from caseload.tenancy.scoping import agency_scope
from caseload.tenancy.tests.helpers import make_funder, make_program, make_role
from caseload.testing.factories import make_member

# --- Rows to point URLs at ---------------------------------------------------------------------


def an_outbound_message(agency: Agency) -> models.Model:
    from caseload.messaging.actions import queue_email

    with agency_scope(agency):
        return queue_email(agency=agency, to="client@example.org", subject="Your appointment", body="See you on Monday.")


def an_audit_event(agency: Agency) -> models.Model:
    with agency_scope(agency):
        return record(agency=agency, actor=None, action=Action.VIEW, object_type="tenancy.agency", object_id=str(agency.pk))


def a_staff_member(agency: Agency) -> models.Model:
    return make_member(agency, "Caseworker")


def a_client(agency: Agency) -> models.Model:
    from caseload.clients.actions import register_client

    with agency_scope(agency):
        return register_client(agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad"})


def a_referral(agency: Agency) -> models.Model:
    """A referral to an outside organisation (one to another agency needs a second agency)."""
    from caseload.clients.referrals import record_external_referral

    client = a_client(agency)
    with agency_scope(agency):
        return record_external_referral(client, None, organisation="Food bank", reason="Groceries", client_consent=True)


def an_incoming_referral(agency: Agency) -> models.Model:
    """A referral another agency sent to this one."""
    from caseload.clients.models import IncomingReferral
    from caseload.clients.referrals import refer_to_agency
    from caseload.testing.factories import make_agency

    sender = make_agency()
    client = a_client(sender)
    with agency_scope(sender):
        referral = refer_to_agency(client, None, to_agency=agency, reason="Job search", client_consent=True)
    with agency_scope(agency):
        return IncomingReferral.objects.for_agency(agency).get(source_referral_id=referral.pk)


def a_merge(agency: Agency) -> models.Model:
    from caseload.clients.merging import merge_clients

    kept, merged = a_client(agency), a_client(agency)
    with agency_scope(agency):
        return merge_clients(kept, merged, None, "Same person")


def a_client_import(agency: Agency) -> models.Model:
    """A checked import, ready to run (a row with an error would make it invalid)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from caseload.clients.importing import create_import

    upload = SimpleUploadedFile(
        "clients.csv", b"given_name,family_name,phone\nAmina,Haddad,416-555-0123\n", content_type="text/csv"
    )
    with agency_scope(agency):
        return create_import(agency=agency, actor=None, upload=upload)[0]


def a_client_with_email(agency: Agency) -> models.Model:
    """A new client with an email: flag, link to CaMS, archive, invite to the portal and assign all apply."""
    from caseload.clients.actions import register_client

    with agency_scope(agency):
        return register_client(
            agency=agency, actor=None, data={"given_name": "Amina", "family_name": "Haddad", "email": "amina@example.org"}
        )


def a_client_with_everything(agency: Agency) -> models.Model:
    """A flagged, archived client, linked to CaMS, invited to the portal, with staff and an open enrolment:
    every "undo" page of the Actions menu applies."""
    from caseload.clients import actions

    client = a_client_with_email(agency)
    program = make_program(agency, "Job Search Workshop")
    staff = make_member(agency, "Caseworker")
    with agency_scope(agency):
        actions.flag_client(client, None, "Meet with two staff present.")
        actions.archive_client(client, None)
        actions.link_cams(client, None, "1234567")
        actions.invite_to_portal(client, None)
        actions.assign_staff(client, None, staff)
        actions.enrol_client(client, None, program)
    return client


MODEL_FACTORIES: dict[type[models.Model], Callable[[Agency], models.Model]] = {
    Program: make_program,
    Funder: make_funder,
    Role: make_role,
    Membership: a_staff_member,
    AuditEvent: an_audit_event,
    Client: a_client,
}

# URL name -> a row of the agency for its ``pk``.
OBJECT_FACTORIES: dict[str, Callable[[Agency], models.Model]] = {
    "tenancy:program_detail": make_program,
    "tenancy:program_edit": make_program,
    "tenancy:program_delete": make_program,
    "tenancy:program_staff_add": make_program,
    "tenancy:program_staff_remove": make_program,
    "tenancy:funder_edit": make_funder,
    "tenancy:funder_delete": make_funder,
    "tenancy:staff_edit": a_staff_member,
    "tenancy:staff_deactivate": a_staff_member,
    "tenancy:role_edit": make_role,
    "tenancy:role_delete": make_role,
    "messaging:message": an_outbound_message,
    "messaging:retry": an_outbound_message,
    "messaging:cancel": an_outbound_message,
    "api:agency-detail": lambda agency: agency,
    "api:message-detail": an_outbound_message,
    "clients:detail": a_client,
    # The Actions menu's pages (clients/action_views.py), each on a client it applies to.
    "clients:assign": a_client_with_email,
    "clients:assign_me": a_client_with_email,
    "clients:unassign": a_client_with_everything,
    "clients:flag": a_client_with_email,
    "clients:unflag": a_client_with_everything,
    "clients:archive": a_client_with_email,
    "clients:unarchive": a_client_with_everything,
    "clients:cams_link": a_client_with_email,
    "clients:cams_unlink": a_client_with_everything,
    "clients:portal_invite": a_client_with_email,
    "clients:portal_resend": a_client_with_everything,
    "clients:portal_reset": a_client_with_everything,
    "clients:enrol": a_client_with_email,
    "clients:end_enrolment": a_client_with_everything,
    "api:client-assignments": a_client_with_everything,
    "api:client-safety-flags": a_client_with_everything,
    "api:client-enrolments": a_client_with_everything,
    "clients:edit": a_client,
    "clients:consent": a_client,
    "api:client-archive": a_client,
    "api:client-unarchive": a_client,
    "clients:refer": a_client,
    "clients:refer_outside": a_client,
    "clients:referral_withdraw": a_referral,
    "clients:incoming_accept": an_incoming_referral,
    "clients:incoming_decline": an_incoming_referral,
    "clients:merge": a_client,
    "clients:merge_undo": a_merge,
    "clients:import_detail": a_client_import,
    "clients:import_confirm": a_client_import,
    "clients:import_cancel": a_client_import,
    "clients:import_report": a_client_import,
    "api:client-refer": a_client,
    "api:client-merge": a_client,
    "api:referral-detail": a_referral,
    "api:referral-withdraw": a_referral,
    "api:incoming-referral-detail": an_incoming_referral,
    "api:incoming-referral-accept": an_incoming_referral,
    "api:incoming-referral-decline": an_incoming_referral,
    "api:merge-detail": a_merge,
    "api:merge-undo": a_merge,
}

# URLs whose arguments the sweep cannot fill (name, or route when unnamed) -> why, and where tested.
SKIPPED: dict[str, str] = {
    "accounts:password_reset_confirm": "needs a signed uid and token; tested in caseload/accounts/tests",
    "accounts:invitation": "needs a signed uid and token; tested in caseload/accounts/tests",
    "api/^(?P<path>.*)$": "the API's catch-all JSON 404 for unknown paths; tested in caseload/api/tests",
}

# Apps with many pages keep their sweep entries beside their tests.
from caseload.casework.tests import sweep as casework_sweep  # noqa: E402
from caseload.delivery.tests import sweep as delivery_sweep  # noqa: E402
from caseload.documents.tests import sweep as documents_sweep  # noqa: E402
from caseload.formbuilder.tests import sweep as formbuilder_sweep  # noqa: E402
from caseload.messaging.tests import sweep as messaging_sweep  # noqa: E402
from caseload.outcomes.tests import sweep as outcomes_sweep  # noqa: E402
from caseload.outcomes.tests import sweep_surveys  # noqa: E402

for app_sweep in (casework_sweep, delivery_sweep, formbuilder_sweep, documents_sweep, messaging_sweep, outcomes_sweep, sweep_surveys):
    MODEL_FACTORIES.update(app_sweep.MODEL_FACTORIES)
    OBJECT_FACTORIES.update(app_sweep.OBJECT_FACTORIES)
    SKIPPED.update(app_sweep.SKIPPED)

# Pages anyone may open without logging in (answering 2xx, or redirecting elsewhere than log-in).
PUBLIC: dict[str, str] = {
    "accounts:login": "the log-in page",
    "accounts:password_reset": "asking for a password reset link",
    "accounts:password_reset_done": "the reset link was sent",
    "accounts:password_reset_complete": "the password was reset",
    "api:schema": "the OpenAPI schema holds no data",
    "api:docs": "the API documentation holds no data",
    "set_language": "the language switch redirects back",
}


# --- Walking the URL configuration -------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    name: str | None
    route: str
    args: tuple[str, ...]
    callback: Callable[..., Any]

    @property
    def key(self) -> str:
        return self.name or self.route

    @property
    def is_api(self) -> bool:
        return self.route.startswith("api/")

    def factory(self) -> Callable[[Agency], models.Model] | None:
        if self.args != ("pk",):
            return None
        if self.key in OBJECT_FACTORIES:
            return OBJECT_FACTORIES[self.key]
        view_class = getattr(self.callback, "cls", None)
        model = getattr(view_class, "model", None) or getattr(getattr(view_class, "queryset", None), "model", None)
        return MODEL_FACTORIES.get(model)


def walk(patterns: list, prefix: str = "", namespace: str | None = None) -> Iterator[Entry]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            args = tuple(sorted(pattern.pattern.regex.groupindex))
            yield Entry(name, prefix + str(pattern.pattern), args, pattern.callback)


ENTRIES = list(walk(get_resolver().url_patterns))
SWEPT = [entry for entry in ENTRIES if not entry.args or entry.factory() is not None]


def params() -> list:
    swept = [pytest.param(entry, id=entry.key) for entry in SWEPT]
    skipped = [
        pytest.param(entry, id=entry.key, marks=pytest.mark.skip(reason=SKIPPED[entry.key]))
        for entry in ENTRIES
        if entry.key in SKIPPED
    ]
    return swept + skipped


# --- The sweep ---------------------------------------------------------------------------------


def test_every_url_with_arguments_is_swept_or_skipped_with_a_reason():
    unknown = [entry.route for entry in ENTRIES if entry.args and entry.factory() is None and entry.key not in SKIPPED]
    assert not unknown, (
        "These URLs take arguments the sweep cannot fill. Add a row factory to OBJECT_FACTORIES (or the model to "
        f"MODEL_FACTORIES) in {__file__}, or a SKIPPED entry saying why and where they are tested: {unknown}"
    )


def test_the_lists_name_only_urls_that_exist():
    keys = {entry.key for entry in ENTRIES}
    assert set(OBJECT_FACTORIES) <= keys
    assert set(SKIPPED) <= keys
    assert set(PUBLIC) <= keys


def test_the_sweep_covers_the_administration_pages():
    assert {"tenancy:staff_edit", "tenancy:program_list", "audit:list", "audit:export"} <= {entry.key for entry in SWEPT}


@pytest.fixture
def visitors(agency, outsider) -> dict[str, Any]:
    """A member of the agency in each seeded role, and an administrator of the other agency."""
    return {"outsider": outsider, **{name: make_member(agency, name).user for name in SEEDED_ROLES}}


def url_for(entry: Entry, agency: Agency) -> str:
    if not entry.args:
        return reverse(entry.key)
    return reverse(entry.key, kwargs={"pk": entry.factory()(agency).pk})


def check_anonymous(entry: Entry, response) -> None:
    status, location = response.status_code, response.get("Location", "")
    login = reverse(settings.LOGIN_URL)
    if entry.key in PUBLIC:
        assert status < 500
    elif entry.is_api:
        assert status in {401, 403, 405}, f"{entry.route} answered {status} to an anonymous visitor"
    else:
        assert status in {403, 405} or (status == 302 and location.startswith(login)), (
            f"{entry.route} answered {status} {location} to an anonymous visitor: log-in required, or declare it in PUBLIC"
        )


@pytest.mark.parametrize("entry", params())
def test_every_url_answers_every_visitor_without_an_error(client, agency, visitors, entry):
    url = url_for(entry, agency)

    check_anonymous(entry, client.get(url))

    for role_name, user in visitors.items():
        client.force_login(user)
        response = client.get(url)
        assert response.status_code < 500, f"{url} answered {response.status_code} to {role_name}"
        if entry.args and role_name == "outsider":
            # Another agency's row does not exist for them; 405 (a POST-only URL) says nothing either.
            assert response.status_code in {404, 405}, f"{url} answered {response.status_code} to another agency's administrator"
        client.logout()
