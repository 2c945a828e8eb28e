"""Referral pages: refer a client to another agency or record an outside referral, withdraw a
pending one, and the receiving side's list of incoming referrals to accept or decline.

Thin views over ``caseload.clients.referrals``; every page needs ``clients.refer``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.clients import referrals
from caseload.clients.models import Client, IncomingReferral, Referral, ReferralStatus
from caseload.clients.views import client_frame
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.tenancy.models import Agency
from caseload.web.forms import add_errors

CLIENTS_REFER = "clients.refer"


class _ReferralForm(forms.Form):
    service = forms.CharField(
        label=gettext_lazy("Service"), max_length=200, required=False, help_text=gettext_lazy("What the client is referred for.")
    )
    reason = forms.CharField(label=gettext_lazy("Reason for referral"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    # Checked by the action, which names the field when it is missing.
    client_consent = forms.BooleanField(
        label=gettext_lazy("The client agrees to share their information with the organisation they are referred to"),
        required=False,
    )


class AgencyReferralForm(_ReferralForm):
    to_agency = forms.ModelChoiceField(
        label=gettext_lazy("Agency"), queryset=Agency.objects.none(), empty_label=gettext_lazy("Choose an agency")
    )

    field_order = ["to_agency", "service", "reason", "client_consent"]

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_agency"].queryset = referrals.referral_agencies(agency)


class ExternalReferralForm(_ReferralForm):
    organisation = forms.CharField(label=gettext_lazy("Organisation"), max_length=200)
    contact = forms.CharField(
        label=gettext_lazy("Contact"),
        max_length=200,
        required=False,
        help_text=gettext_lazy("Person, phone or email at the organisation."),
    )

    field_order = ["organisation", "contact", "service", "reason", "client_consent"]


class AnswerForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("Note to the referring agency"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )


def _referable_client(request: HttpRequest, pk: int) -> Client:
    client = get_for_agency(request, Client, pk=pk)
    if client.status == Client.Status.MERGED:
        raise Http404
    return client


def _refer_page(request: HttpRequest, pk: int, form_class, run, title: str, intro: str) -> HttpResponse:
    client = _referable_client(request, pk)
    kwargs = {"agency": request.agency} if form_class is AgencyReferralForm else {}
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            run(client, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("Referral recorded."))
            return redirect("clients:detail", pk=client.pk)
    context = {
        **client_frame(request, client),
        "form": form,
        "page_title": title,
        "intro": intro,
        "cancel_url": reverse("clients:detail", args=[client.pk]),
    }
    return render(request, "clients/refer.html", context, status=400 if form.errors else 200)


@perm_required(CLIENTS_REFER)
def refer_to_agency(request: HttpRequest, pk: int) -> HttpResponse:
    def run(client: Client, data: dict[str, Any]) -> None:
        referrals.refer_to_agency(
            client,
            request.user,
            to_agency=data["to_agency"],
            service=data["service"],
            reason=data["reason"],
            client_consent=data["client_consent"],
        )

    return _refer_page(
        request,
        pk,
        AgencyReferralForm,
        run,
        _("Refer to another agency"),
        _("The agency sees the referral with the client's first name and initial only. It sees the profile once it accepts."),
    )


@perm_required(CLIENTS_REFER)
def refer_outside(request: HttpRequest, pk: int) -> HttpResponse:
    def run(client: Client, data: dict[str, Any]) -> None:
        referrals.record_external_referral(
            client,
            request.user,
            organisation=data["organisation"],
            contact=data["contact"],
            service=data["service"],
            reason=data["reason"],
            client_consent=data["client_consent"],
        )

    return _refer_page(
        request,
        pk,
        ExternalReferralForm,
        run,
        _("Record an outside referral"),
        _("Record a referral to an organisation that does not use Caseload."),
    )


@perm_required(CLIENTS_REFER)
def withdraw_referral(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_for_agency(request, Referral.objects.for_agency(request.agency).select_related("client", "to_agency"), pk=pk)
    client = referral.client
    error = ""
    if request.method == "POST":
        try:
            referrals.withdraw_referral(referral, request.user)
        except ValidationError as refusal:
            error = " ".join(refusal.messages)
        else:
            messages.success(request, _("Referral withdrawn."))
            return redirect("clients:detail", pk=client.pk)
    context = {
        **client_frame(request, client),
        "referral": referral,
        "error": error,
        "cancel_url": reverse("clients:detail", args=[client.pk]),
    }
    return render(request, "clients/referral_withdraw.html", context, status=400 if error else 200)


@perm_required(CLIENTS_REFER)
def incoming_list(request: HttpRequest) -> HttpResponse:
    rows = referrals.incoming_referrals(request.agency)
    pending = [row for row in rows if row.status == ReferralStatus.PENDING]
    answered = [row for row in rows if row.status != ReferralStatus.PENDING]
    return render(request, "clients/incoming_referrals.html", {"pending": pending, "answered": answered})


def _answer_page(request: HttpRequest, pk: int, accept: bool) -> HttpResponse:
    incoming = get_for_agency(request, IncomingReferral.objects.for_agency(request.agency).select_related("from_agency"), pk=pk)
    form = AnswerForm(request.POST or None)
    if accept:
        form.fields["note"].help_text = _("Optional.")
    if request.method == "POST" and form.is_valid():
        try:
            if accept:
                client = referrals.accept_referral(incoming, request.user, form.cleaned_data["note"])
            else:
                referrals.decline_referral(incoming, request.user, form.cleaned_data["note"])
        except ValidationError as error:
            add_errors(form, error)
        else:
            if accept:
                messages.success(request, _("Referral accepted: the client's profile is now in your agency."))
                return redirect("clients:detail", pk=client.pk)
            messages.success(request, _("Referral declined."))
            return redirect("clients:incoming_referrals")
    context = {
        "incoming": incoming,
        "form": form,
        "accept": accept,
        "title": _("Accept this referral?") if accept else _("Decline this referral?"),
        "cancel_url": reverse("clients:incoming_referrals"),
    }
    return render(request, "clients/incoming_answer.html", context, status=400 if form.errors else 200)


@perm_required(CLIENTS_REFER)
def accept_incoming(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer_page(request, pk, accept=True)


@perm_required(CLIENTS_REFER)
def decline_incoming(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer_page(request, pk, accept=False)
