"""Service referral pages: a new referral, its page with the status steps and buttons, and the agency's open referrals.

Thin views: ``casework.view`` to read, ``casework.change`` to write (403 otherwise); clients and
referrals come from the request's agency only (404 outside it), deleted referrals from nowhere.
Writes call ``caseload.casework.referrals``. The client's Tasks & referrals tab lists their
referrals through ``referrals.client_referrals_context`` and ``casework/_client_referrals.html``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.audit.actions import Action, record
from caseload.casework import referrals
from caseload.casework.models import ServiceReferral
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.casework.referral_forms import CancelForm, CloseForm, OutcomeForm, ReferralForm, RespondForm
from caseload.clients.models import Client
from caseload.clients.views import client_frame, legal_name
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors
from caseload.web.tables import Column, Table, table_response

VIEW, CHANGE = "casework.view", "casework.change"
Status = ServiceReferral.Status
Kind = ServiceReferral.Kind

STATUS_FILTERS = {
    "open": (gettext_lazy("Open"), referrals.OPEN_STATUSES),
    "sent": (gettext_lazy("Awaiting an answer"), (Status.SENT,)),
    "accepted": (gettext_lazy("Accepted"), (Status.ACCEPTED,)),
    "closed": (gettext_lazy("Closed"), referrals.CLOSED_STATUSES),
    "all": (gettext_lazy("All"), tuple(Status.values)),
}


def get_referral(request: HttpRequest, pk: int) -> ServiceReferral:
    referral = get_for_agency(request, referrals.referrals_for_agency(request.agency, request.membership), pk=pk)
    referral.client.agency = request.agency
    return referral


def _frame(request: HttpRequest, client: Client) -> dict[str, Any]:
    return client_frame(request, client, "tasks")


def _client_tab(client: Client) -> str:
    return reverse("casework:client_tasks", args=[client.pk])


# --- The new referral ----------------------------------------------------------------------------


def _referral_form_page(request: HttpRequest, client: Client, *, referral: ServiceReferral | None = None) -> HttpResponse:
    hint = request.GET.get("service", "") if request.method == "GET" else ""
    form = ReferralForm(
        request.POST if request.method == "POST" else None,
        agency=request.agency,
        client=client,
        referral=referral,
        service_hint=hint,
        initial={"referred_on": referrals.agency_today(request.agency), **({"service": hint} if hint else {})},
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                if referral is None:
                    saved = referrals.create_referral(client, request.user, form.data_for_action())
                    messages.success(
                        request, _("Referral recorded. Nothing was sent to the service: contact them as you usually do.")
                    )
                else:
                    saved = referrals.update_referral(referral, request.user, form.data_for_action())
                    messages.success(request, _("Referral saved."))
            except ValidationError as error:
                add_errors(form, error)
            else:
                return redirect("casework:referral_detail", pk=saved.pk)
        status = 400
    url = (
        reverse("casework:referral_new", args=[client.pk])
        if referral is None
        else reverse("casework:referral_edit", args=[referral.pk])
    )
    form.fields["service"].widget.attrs.update(
        {
            "hx-get": url,
            "hx-trigger": "change",
            "hx-target": "#referral-where",
            "hx-select": "#referral-where",
            "hx-swap": "outerHTML",
            "hx-include": "this",
        }
    )
    context = {
        **_frame(request, client),
        "form": form,
        "referral": referral,
        "title": _("Refer to a service") if referral is None else _("Edit the referral"),
        "submit_label": _("Save referral"),
        "cancel_url": _client_tab(client) if referral is None else reverse("casework:referral_detail", args=[referral.pk]),
        "has_services": bool(form.fields["service"].rows),
        "can_configure": has_perm(request, "casework.configure"),
    }
    return render(request, "casework/referral_form.html", context, status=status)


@perm_required(CHANGE)
def referral_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if is_merged(client):
        return refuse_merged(
            request, client, _("This profile was merged into another one: refer the client from that profile."), "clients:detail"
        )
    return _referral_form_page(request, client)


@perm_required(CHANGE)
def referral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral(request, pk)
    return _referral_form_page(request, referral.client, referral=referral)


# --- One referral --------------------------------------------------------------------------------


def status_steps(referral: ServiceReferral) -> list[dict[str, Any]]:
    """Sent → answered (accepted or declined) → closed (completed or no-show), each done, current or to come."""
    status = referral.status
    answered = status in (Status.ACCEPTED, Status.DECLINED, Status.COMPLETED, Status.NO_SHOW) or (
        status == Status.CANCELLED and referral.responded_at
    )
    closed = status in (Status.COMPLETED, Status.NO_SHOW, Status.DECLINED, Status.CANCELLED)
    answer_label = _("Declined") if status == Status.DECLINED else _("Accepted") if answered else _("Answer")
    if status == Status.CANCELLED:
        end_label = _("Cancelled")
    elif status in (Status.COMPLETED, Status.NO_SHOW):
        end_label = referral.get_status_display()
    elif status == Status.DECLINED:
        end_label = _("Closed")
    else:
        end_label = _("Completed or no-show")
    return [
        {"label": _("Sent"), "date": referral.referred_on, "state": "done"},
        {
            "label": answer_label,
            "date": referral.responded_at,
            "state": "done" if answered else ("skipped" if closed else "current"),
        },
        {"label": end_label, "date": referral.closed_at, "state": "done" if closed else ("current" if answered else "todo")},
    ]


@perm_required(VIEW)
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral(request, pk)
    client = referral.client
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=referral, client_id=client.pk)
    can_change = has_perm(request, CHANGE)
    # Not "phone": the client frame's ribbon shows the client's phone under that name.
    where, service_phone = referrals.where_and_phone(referral) if referral.kind == Kind.EXTERNAL else ("", "")
    context = {
        **_frame(request, client),
        "referral": referral,
        "badge": referrals.STATUS_BADGES.get(referral.status, "badge-neutral"),
        "target": referrals.target_name(referral),
        "organisation": referrals.organisation_name(referral),
        "steps": status_steps(referral),
        "where": where,
        "service_phone": service_phone,
        "can_change": can_change,
        "reminder_refusal": referrals.reminder_refusal(client) if referral.remind_client else None,
        "decline_form": RespondForm(auto_id="decline_%s", initial={"status": Status.DECLINED}),
        "complete_form": CloseForm(auto_id="complete_%s", initial={"status": Status.COMPLETED}),
        "no_show_form": CloseForm(auto_id="noshow_%s", initial={"status": Status.NO_SHOW}),
        "cancel_form": CancelForm(auto_id="cancel_%s"),
    }
    for name in ("decline_form", "complete_form", "no_show_form"):
        context[name].fields["status"].widget = context[name].fields["status"].hidden_widget()
    return render(request, "casework/referral_detail.html", context)


def _step_page(
    request: HttpRequest,
    pk: int,
    *,
    form_class,
    title: str,
    submit_label: str,
    run,
    done: str,
    applies,
    initial: dict | None = None,
    danger: bool = False,
) -> HttpResponse:
    """The page behind one of the referral's buttons: GET shows its form (the button's dialog without
    JavaScript), a valid POST runs ``run(referral, data)`` and goes back to the referral."""
    referral = get_referral(request, pk)
    if not applies(referral):
        messages.info(
            request, _("This referral is %(status)s: that step does not apply now.") % {"status": referral.get_status_display()}
        )
        return redirect("casework:referral_detail", pk=referral.pk)
    form = form_class(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                run(referral, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, done)
                return redirect("casework:referral_detail", pk=referral.pk)
        status = 400
    context = {
        **_frame(request, referral.client),
        "referral": referral,
        "target": referrals.target_name(referral),
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "danger": danger,
        "cancel_url": reverse("casework:referral_detail", args=[referral.pk]),
    }
    return render(request, "casework/referral_step.html", context, status=status)


@perm_required(CHANGE)
def referral_respond(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.GET.get("status")
    return _step_page(
        request,
        pk,
        form_class=RespondForm,
        title=_("Record the service's answer"),
        submit_label=_("Save the answer"),
        run=lambda referral, data: referrals.respond_referral(referral, request.user, data["status"], note=data["note"]),
        done=_("The service's answer is recorded."),
        applies=lambda referral: referral.status == Status.SENT,
        initial={"status": status} if status in (Status.ACCEPTED, Status.DECLINED) else None,
    )


@perm_required(CHANGE)
def referral_close(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.GET.get("status")
    return _step_page(
        request,
        pk,
        form_class=CloseForm,
        title=_("Close the referral"),
        submit_label=_("Close the referral"),
        run=lambda referral, data: referrals.close_referral(referral, request.user, data["status"], data["outcome"]),
        done=_("The referral is closed and its outcome recorded."),
        applies=lambda referral: referral.status == Status.ACCEPTED,
        initial={"status": status} if status in (Status.COMPLETED, Status.NO_SHOW) else None,
    )


@perm_required(CHANGE)
def referral_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _step_page(
        request,
        pk,
        form_class=CancelForm,
        title=_("Cancel the referral"),
        submit_label=_("Cancel the referral"),
        run=lambda referral, data: referrals.cancel_referral(referral, request.user, note=data["note"]),
        done=_("The referral is cancelled."),
        applies=lambda referral: referral.status in referrals.OPEN_STATUSES,
        danger=True,
    )


@perm_required(CHANGE)
def referral_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral(request, pk)
    return _step_page(
        request,
        pk,
        form_class=OutcomeForm,
        title=_("Change the outcome"),
        submit_label=_("Save the outcome"),
        run=lambda referral, data: referrals.update_referral(referral, request.user, {"outcome": data["outcome"]}),
        done=_("Outcome saved."),
        applies=lambda referral: referral.status in referrals.CLOSED_STATUSES,
        initial={"outcome": referral.outcome},
    )


@perm_required(CHANGE)
def referral_delete(request: HttpRequest, pk: int) -> HttpResponse:
    referral = get_referral(request, pk)
    if request.method == "POST":
        referrals.delete_referral(referral, request.user)
        messages.success(request, _("Referral deleted."))
        return redirect(_client_tab(referral.client))
    context = {
        **_frame(request, referral.client),
        "referral": referral,
        "target": referrals.target_name(referral),
        "cancel_url": reverse("casework:referral_detail", args=[referral.pk]),
    }
    return render(request, "casework/referral_delete.html", context)


# --- The agency's referrals ----------------------------------------------------------------------


def _status_cell(referral: ServiceReferral) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        referrals.STATUS_BADGES.get(referral.status, "badge-neutral"),
        referral.get_status_display(),
    )


def _author(referral: ServiceReferral) -> str | None:
    if referral.author is None:
        return None
    return referral.author.user.full_name or referral.author.user.email


def _awaiting_first(queryset: QuerySet[ServiceReferral]) -> QuerySet[ServiceReferral]:
    return queryset.annotate(
        awaiting=Case(
            When(status=Status.SENT, then=Value(0)),
            When(status=Status.ACCEPTED, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        )
    )


@perm_required(VIEW)
def referral_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    if status not in STATUS_FILTERS:
        status = "open"
    mine = request.GET.get("mine") == "1"
    queryset = referrals.referrals_for_agency(request.agency, request.membership).filter(status__in=STATUS_FILTERS[status][1])
    if mine:
        queryset = queryset.filter(author=request.membership)
    today = referrals.agency_today(request.agency)
    table = Table(
        request,
        _awaiting_first(queryset),
        columns=[
            Column(
                "client",
                _("Client"),
                sort=("client__family_name", "client__given_name"),
                value=lambda r: legal_name(r.client),
                link=lambda r: reverse("casework:referral_detail", args=[r.pk]),
            ),
            Column("target", _("Referred to"), value=referrals.target_name),
            Column("organisation", _("Organisation"), value=referrals.organisation_name),
            Column("status", _("Status"), sort=("awaiting", "follow_up_on", "-referred_on"), value=_status_cell),
            Column("referred_on", _("Date referred"), sort="referred_on"),
            Column(
                "follow_up_on",
                _("Follow up on"),
                sort="follow_up_on",
                value=lambda r: (
                    format_html('{} <span class="badge badge-warning">{}</span>', r.follow_up_on, _("due"))
                    if r.follow_up_on and r.is_open and r.follow_up_on <= today
                    else r.follow_up_on
                ),
            ),
            Column("author", _("Referred by"), value=_author),
        ],
        default_sort="status",
        caption=_("Referrals"),
        empty_title=_("No referrals here"),
        empty_text=_("Referrals made from a client's Tasks & referrals tab are listed here.")
        if status == "open" and not mine
        else _("Change the filters to see more referrals."),
        empty_icon="send",
    )
    context = {
        "table": table,
        "status": status,
        "statuses": [(key, label) for key, (label, _statuses) in STATUS_FILTERS.items()],
        "mine": mine,
        "filtered": status != "open" or mine,
    }
    return table_response(request, "casework/referrals.html", context, table)


urlpatterns = [
    path("clients/<int:pk>/referrals/new/", referral_new, name="referral_new"),
    path("referrals/", referral_list, name="referrals"),
    path("referrals/<int:pk>/", referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/respond/", referral_respond, name="referral_respond"),
    path("referrals/<int:pk>/close/", referral_close, name="referral_close"),
    path("referrals/<int:pk>/cancel/", referral_cancel, name="referral_cancel"),
    path("referrals/<int:pk>/outcome/", referral_outcome, name="referral_outcome"),
    path("referrals/<int:pk>/edit/", referral_edit, name="referral_edit"),
    path("referrals/<int:pk>/delete/", referral_delete, name="referral_delete"),
]
