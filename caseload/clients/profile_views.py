"""Registering a client (privacy statement first, then a named or an anonymous profile, with the
duplicate check), editing the profile, recording consent later, and the agency's privacy statements.

Thin views: clients come from the request's agency only (404 outside it), the permission is
checked (403), forms parse, actions of ``caseload.clients.actions`` write and audit.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from caseload.clients import actions
from caseload.clients.models import Client, PrivacyConsent, PrivacyStatement
from caseload.clients.profile_forms import (
    AnonymousProfileForm,
    ConsentForm,
    PrivacyStatementForm,
    ProfileForm,
    RecordConsentForm,
    phone_formset,
    phones_of,
    phones_valid,
)
from caseload.clients.queries import current_privacy_statement, likely_duplicates
from caseload.clients.views import birth_text, client_frame, display_phone, legal_name
from caseload.formbuilder.profile_questions import ProfileQuestions
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors

CLIENTS_CHANGE = "clients.change"
AGENCY_MANAGE = "agency.manage"


def statement_text(statement: PrivacyStatement | None) -> str:
    """The statement in the reader's language: French when there is a French text."""
    if statement is None:
        return ""
    if (get_language() or "").startswith("fr") and statement.text_fr:
        return statement.text_fr
    return statement.text


def _profile_data(form: ProfileForm) -> dict[str, Any]:
    return {name: form.cleaned_data[name] for name in form.fields}


# --- Registration ------------------------------------------------------------------------------


@perm_required(CLIENTS_CHANGE)
def client_register(request: HttpRequest) -> HttpResponse:
    """Step 1 (GET, no answer yet): the privacy statement and the client's answer. Step 2 (GET with the
    answer): the named or anonymous form. POST: the duplicate check, then the registration."""
    statement = current_privacy_statement(request.agency)
    source = request.POST if request.method == "POST" else request.GET
    consent = ConsentForm(source if "consent-decision" in source else None, prefix="consent", has_statement=statement is not None)
    context: dict[str, Any] = {
        "statement": statement,
        "statement_text": statement_text(statement),
        "consent_form": consent,
        "can_publish": has_perm(request, AGENCY_MANAGE),
    }
    if not consent.is_bound or not consent.is_valid():
        return render(request, "clients/register.html", {**context, "step": "consent"}, status=400 if consent.is_bound else 200)
    if statement is not None and consent.cleaned_data.get("statement") != statement.pk:
        # A new version was published meanwhile: the client must see that one.
        messages.warning(
            request, _("The privacy statement changed while you were registering. Show the client the current version.")
        )
        return redirect("clients:register")
    named = consent.named
    form_class = ProfileForm if named else AnonymousProfileForm
    posted = request.method == "POST"
    form = form_class(request.POST if posted else None)
    phones = phone_formset(request.POST if posted else None) if named else None
    method_label = dict(PrivacyConsent.Method.choices).get(consent.cleaned_data.get("method"), "")
    context.update({"step": "profile", "named": named, "form": form, "phones": phones, "method_label": str(method_label).lower()})
    if not posted:
        return render(request, "clients/register.html", context)
    if not (form.is_valid() and phones_valid(phones)):
        return render(request, "clients/register.html", context, status=400)
    data = _profile_data(form)
    data["is_anonymous"] = not named
    extra_phones = phones_of(phones) or []
    if named and not request.POST.get("confirm_new"):
        duplicates = likely_duplicates(request.agency, data)
        if duplicates:
            context["duplicates"] = [
                {
                    "client": match.client,
                    "name": legal_name(match.client),
                    "born": birth_text(match.client),
                    "phone": display_phone(match.client.phone),
                    "score": round(match.score * 100),
                    "reasons": [str(reason) for reason in match.reasons],
                    "url": reverse("clients:detail", args=[match.client.pk]),
                }
                for match in duplicates
            ]
            return render(request, "clients/register.html", context)
    answer = None
    if statement is not None:
        answer = {"statement": statement, "accepted": named, "method": consent.cleaned_data.get("method")}
    try:
        client = actions.register_client(
            agency=request.agency, actor=request.user, data=data, phones=extra_phones, consent=answer
        )
    except ValidationError as error:
        add_errors(form, error)
        return render(request, "clients/register.html", context, status=400)
    if client.is_anonymous:
        messages.success(request, _("An anonymous client is registered as client %(number)s.") % {"number": client.client_number})
    else:
        messages.success(
            request,
            _("%(name)s is registered as client %(number)s.") % {"name": legal_name(client), "number": client.client_number},
        )
    return redirect("clients:detail", pk=client.pk)


# --- Editing the profile -----------------------------------------------------------------------


def merged_notice(request: HttpRequest, client: Client) -> HttpResponse | None:
    """A merged profile is read-only (its records live on the kept profile): back to it, saying why."""
    if client.status != Client.Status.MERGED:
        return None
    messages.info(request, _("This profile was merged into another one: change the kept profile instead."))
    return redirect("clients:detail", pk=client.pk)


@perm_required(CLIENTS_CHANGE)
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_for_agency(request, Client, pk=pk)
    if refused := merged_notice(request, client):
        return refused
    named = not client.is_anonymous
    form_class = ProfileForm if named else AnonymousProfileForm
    posted = request.method == "POST"
    form = form_class(request.POST if posted else None, instance=client)
    phones = phone_formset(request.POST if posted else None, client=client) if named else None
    # The agency's own questions on the profile (caseload.formbuilder), saved with the profile.
    agency_questions = ProfileQuestions(client)
    answered = agency_questions.bind(request.POST) if posted else True
    if posted and form.is_valid() and phones_valid(phones) and answered:
        try:
            with transaction.atomic():
                actions.update_client(client, request.user, _profile_data(form), phones=phones_of(phones))
                agency_questions.save(request.user)
        except ValidationError as error:
            client.refresh_from_db()
            add_errors(form, error)
        else:
            messages.success(request, _("The client's details are saved."))
            return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/edit.html",
        {**client_frame(request, client), "form": form, "phones": phones, "named": named, "agency_questions": agency_questions},
        status=400 if posted else 200,
    )


# --- Recording consent later -------------------------------------------------------------------


@perm_required(CLIENTS_CHANGE)
def client_consent(request: HttpRequest, pk: int) -> HttpResponse:
    client = get_for_agency(request, Client, pk=pk)
    if refused := merged_notice(request, client):
        return refused
    statement = current_privacy_statement(request.agency)
    form = RecordConsentForm(request.POST or None)
    if request.method == "POST" and statement is not None and form.is_valid():
        was_anonymous = client.is_anonymous
        try:
            actions.record_consent(client, request.user, statement, form.cleaned_data["accepted"], form.cleaned_data["method"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            if form.cleaned_data["accepted"] and was_anonymous:
                messages.success(request, _("Consent recorded. The client is no longer anonymous: add their details."))
                return redirect("clients:edit", pk=client.pk)
            messages.success(request, _("The client's answer to the privacy statement is recorded."))
            return redirect("clients:detail", pk=client.pk)
    return render(
        request,
        "clients/consent.html",
        {
            **client_frame(request, client),
            "form": form,
            "statement": statement,
            "statement_text": statement_text(statement),
            "can_publish": has_perm(request, AGENCY_MANAGE),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- The agency's privacy statements -----------------------------------------------------------


@perm_required(AGENCY_MANAGE)
def privacy_statements(request: HttpRequest) -> HttpResponse:
    from caseload.tenancy.views import admin_tabs

    form = PrivacyStatementForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            statement = actions.publish_privacy_statement(agency=request.agency, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                _("Privacy statement %(version)s is published. New clients are asked to accept it.")
                % {"version": statement.version},
            )
            return redirect("tenancy:privacy_statements")
    statements = list(
        PrivacyStatement.objects.for_agency(request.agency)
        .select_related("created_by")
        .annotate(answers=Count("consents"))
        .order_by("-published_at", "-pk")
    )
    current = current_privacy_statement(request.agency)
    return render(
        request,
        "clients/privacy_statements.html",
        {"admin_tabs": admin_tabs(request), "form": form, "statements": statements, "current": current},
        status=400 if request.method == "POST" else 200,
    )
