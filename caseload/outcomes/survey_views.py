"""The pages of checkpoint surveys.

- Staff: "Send survey" (``outcomes:send_survey``, ``/checkpoints/<pk>/send-survey/``, needs
  ``outcomes.change``): the channel, the agency's template in the client's language (editable), a
  preview with the SMS segment count, then the message goes to the outbox.
- Public: ``/survey/<token>/`` (``outcomes:survey_public``), no log-in: the agency's name, a greeting
  with the client's preferred or given name, and the survey of that one checkpoint. A link that
  does not exist (or was altered) answers 404, one expired, used or replaced 410 — a friendly page,
  never an error. The page is never cached and sends no referrer (the token is in its path).
- Portal: ``/portal/surveys/`` lists the client's open surveys, ``/portal/surveys/<pk>/`` (a
  checkpoint's pk) answers one through the same ``surveys.answer_survey``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from caseload.casework.records import consented_channel, supported_language
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.formbuilder import engine, rendering
from caseload.messaging.models import MessageTemplate
from caseload.outcomes import surveys
from caseload.outcomes.models import Checkpoint, SurveyInvitation
from caseload.outcomes.survey_forms import SendSurveyForm
from caseload.portal.access import portal_view
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.tenancy.scoping import agency_scope
from caseload.web.forms import add_errors

CHANGE = "outcomes.change"
TAB = "checkpoints"  # the client's Checkpoints tab (outcomes.views)


# --- Staff: send a checkpoint's survey ----------------------------------------------------------


def checkpoint_url(checkpoint: Checkpoint) -> str:
    """The checkpoint's page, else the client's checkpoints tab, else the client's overview."""
    for name, pk in (("outcomes:checkpoint_detail", checkpoint.pk), ("outcomes:client_checkpoints", checkpoint.client_id)):
        try:
            return reverse(name, args=[pk])
        except NoReverseMatch:
            continue
    return reverse("clients:detail", args=[checkpoint.client_id])


def _chosen_channel(request: HttpRequest, client: Client, rows: list[dict[str, Any]]) -> str:
    available = [row["value"] for row in rows if row["available"]]
    wanted = request.POST.get("channel") if request.method == "POST" else request.GET.get("channel")
    if wanted in available:
        return wanted
    preferred = consented_channel(client)
    if preferred in available:
        return preferred
    return available[0] if available else ""


@perm_required(CHANGE)
@require_http_methods(["GET", "POST"])
def send_survey(request: HttpRequest, pk: int) -> HttpResponse:
    rows = Checkpoint.objects.for_agency(request.agency).select_related("client", "program", "survey")
    checkpoint = get_for_agency(request, rows, pk=pk)
    client = checkpoint.client
    client.agency = request.agency
    back_url = checkpoint_url(checkpoint)
    refusal = surveys.send_refusal(checkpoint)
    channel_rows = surveys.channels(client)
    channel = _chosen_channel(request, client, channel_rows)
    language = surveys.client_language(client)

    form = None
    shown: dict[str, Any] | None = None
    status = 200
    if not refusal and channel:
        if request.method == "POST":
            form = SendSurveyForm(request.POST, client=client, channel=channel)
            if form.is_valid() and "preview" not in request.POST:
                data = form.cleaned_data
                try:
                    invitation = surveys.send_survey(
                        checkpoint, request.user, channel=data["channel"], subject=data.get("subject", ""), body=data["body"]
                    )
                except ValidationError as error:
                    add_errors(form, error)
                else:
                    address = surveys.address_for(client, invitation.channel)
                    if invitation.channel == surveys.EMAIL:
                        text = _("The follow-up survey was queued by email to %(address)s.")
                    else:
                        text = _("The follow-up survey was queued by SMS to %(address)s.")
                    messages.success(request, text % {"address": address})
                    return redirect(back_url)
            status = 400 if form.errors else 200
            subject = request.POST.get("subject", "") if channel == surveys.EMAIL else ""
            body = request.POST.get("body", "")
        else:
            subject, body = surveys.template_text(request.agency, MessageTemplate.Purpose.SURVEY, channel, language)
            form = SendSurveyForm(client=client, channel=channel, initial={"channel": channel, "subject": subject, "body": body})
        shown = surveys.preview(checkpoint, channel=channel, subject=subject, body=body)

    tabs = [
        {
            "label": row["label"],
            "url": request.path + "?" + urlencode({"channel": row["value"]}),
            "current": row["value"] == channel,
        }
        for row in channel_rows
        if row["available"]
    ]
    context = {
        **client_frame(request, client, active=TAB),
        "checkpoint": checkpoint,
        "form": form,
        "refusal": refusal,
        "channel": channel,
        "address": surveys.address_for(client, channel) if channel else "",
        "channel_rows": channel_rows,
        "channel_tabs": tabs,
        "language": dict(settings.LANGUAGES).get(language, language),
        "preview": shown,
        "back_url": back_url,
        "open_invitation": surveys.open_invitations_of(client).filter(checkpoint=checkpoint).first(),
    }
    return render(request, "outcomes/survey_send.html", context, status=status)


# --- Public: the client's link ------------------------------------------------------------------


def _private(response: HttpResponse) -> HttpResponse:
    # "same-origin": the link never leaves in a Referer to another site, and the form's own POST
    # keeps its Origin (with "no-referrer" browsers send "Origin: null" and CSRF refuses it).
    # Django logs the path of every 4xx response ("Not Found: /survey/<token>/"): the token stays out of the logs.
    response._has_been_logged = True  # type: ignore[attr-defined]
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "same-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _survey_language(request: HttpRequest, client: Client) -> str:
    """The language the visitor chose (the language switch), else the client's."""
    if request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
        return supported_language(getattr(request, "LANGUAGE_CODE", ""))
    return surveys.client_language(client)


def _closed_page(request: HttpRequest, error: surveys.InvitationError) -> HttpResponse:
    status = 410 if error.gone else 404
    response = render(request, "outcomes/public/survey_closed.html", {"reason": error.reason}, status=status)
    return _private(response)


def _answer_page(
    request: HttpRequest, invitation: SurveyInvitation, *, template: str, extra: dict[str, Any], language: str
) -> HttpResponse | None:
    """The survey form, and its answers saved on POST (shared by the public link and the portal);
    None once the answers are saved (the caller shows its thanks)."""
    checkpoint = invitation.checkpoint
    client = checkpoint.client
    spec = surveys.survey_spec(checkpoint)
    answers: dict[str, Any] = {}
    errors: Any = None
    status = 200
    with translation.override(language):
        if request.method == "POST":
            posted = rendering.answers_from_post(spec, request.POST, None)
            answers = posted.answers
            try:
                surveys.answer_survey(invitation, answers, actor=request.user)
            except engine.AnswerErrors as error:
                errors, status = error, 400
            except surveys.InvitationError as error:
                return _closed_page(request, error)
            else:
                return None
        context = {
            "agency": invitation.agency,
            "greeting_name": surveys.greeting_name(client),
            "survey_name": engine.label(spec.get("name"), language),
            "months": checkpoint.months,
            "fields": rendering.render_fields(spec, answers, errors),
            "has_errors": errors is not None,
            "expires_at": invitation.expires_at,
            **extra,
        }
        return render(request, template, context, status=status)


@never_cache
@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def survey_public(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = surveys.open_invitation(token)
    except surveys.InvitationError as error:
        return _closed_page(request, error)
    client = invitation.checkpoint.client
    language = _survey_language(request, client)
    with agency_scope(invitation.agency):
        response = _answer_page(request, invitation, template="outcomes/public/survey.html", extra={}, language=language)
    if response is None:
        with translation.override(language):
            response = render(
                request,
                "outcomes/public/survey_thanks.html",
                {"agency": invitation.agency, "greeting_name": surveys.greeting_name(client)},
            )
    return _private(response)


# --- Portal: the client's open surveys ----------------------------------------------------------


@portal_view
def portal_surveys(request: HttpRequest, client: Client) -> HttpResponse:
    invitations: list[SurveyInvitation] = []
    if client.status != Client.Status.MERGED:
        seen: set[int] = set()
        for invitation in surveys.open_invitations_of(client):
            if invitation.checkpoint_id not in seen:
                seen.add(invitation.checkpoint_id)
                invitations.append(invitation)
    return render(
        request, "outcomes/public/portal_surveys.html", {"client": client, "agency": client.agency, "invitations": invitations}
    )


@portal_view
@require_http_methods(["GET", "POST"])
def portal_survey(request: HttpRequest, client: Client, pk: int) -> HttpResponse:
    invitation = (
        surveys.open_invitations_of(client).filter(checkpoint_id=pk).select_related("agency", "checkpoint__client").first()
    )
    if invitation is None:
        raise Http404
    language = supported_language(getattr(request, "LANGUAGE_CODE", ""), client.preferred_language)
    response = _answer_page(
        request, invitation, template="outcomes/public/portal_survey.html", extra={"client": client}, language=language
    )
    if response is None:
        messages.success(request, _("Thank you: your answers were sent to %(agency)s.") % {"agency": client.agency.name})
        return redirect("portal:surveys")
    return _private(response)


urlpatterns = [
    path("checkpoints/<int:pk>/send-survey/", send_survey, name="send_survey"),
    path("survey/<str:token>/", survey_public, name="survey_public"),
]

portal_urlpatterns = [
    path("surveys/", portal_surveys, name="surveys"),
    path("surveys/<int:pk>/", portal_survey, name="survey"),
]
