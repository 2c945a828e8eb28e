"""The Outcomes pages: placing a client, the client's Checkpoints tab, a checkpoint's page (review,
milestone, attached files, submission, corrections) and the programs' follow-up schedules.

Reading needs ``outcomes.view``, writing ``outcomes.change``, submitting ``outcomes.submit``,
schedules ``outcomes.configure`` (403 otherwise); rows come from the request's agency (404 for
another agency's). Writes call ``outcomes.actions``; a submitted checkpoint refuses every write.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caseload.audit.actions import Action, record
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.clients.views import client_frame
from caseload.formbuilder import engine, loading, rendering
from caseload.formbuilder.models import FormDefinition
from caseload.outcomes import actions, cams
from caseload.outcomes.forms import PlacementForm, ScheduleForm
from caseload.outcomes.models import Checkpoint, Placement
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.models import Program
from caseload.tenancy.views import admin_render
from caseload.web.forms import add_errors

VIEW, CHANGE, SUBMIT, CONFIGURE = "outcomes.view", "outcomes.change", "outcomes.submit", "outcomes.configure"
TAB = "checkpoints"
BADGES = {
    Checkpoint.Status.SCHEDULED: "neutral",
    Checkpoint.Status.DUE: "warning",
    Checkpoint.Status.SURVEY_SENT: "info",
    Checkpoint.Status.RESPONDED: "accent",
    Checkpoint.Status.REVIEWED: "success",
    Checkpoint.Status.SUBMITTED: "success",
    Checkpoint.Status.MISSED: "danger",
}


def _url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # a page still being built
        return ""


def _checkpoint(request: HttpRequest, pk: int) -> Checkpoint:
    rows = Checkpoint.objects.for_agency(request.agency).select_related(
        "client", "placement__program", "program", "survey", "reviewed_by__user", "agency", "supersedes"
    )
    checkpoint = get_for_agency(request, rows, pk=pk)
    checkpoint.client.agency = request.agency
    return checkpoint


def _staff(member) -> str:
    if member is None:
        return _("the system")
    user = getattr(member, "user", member)
    return user.full_name or user.email


# --- Placing a client into Outcomes --------------------------------------------------------------


@perm_required(CHANGE)
def place(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if is_merged(client):
        return refuse_merged(
            request,
            client,
            _("This profile was merged into another one: place the kept profile into Outcomes."),
            "outcomes:client_checkpoints",
        )
    form = PlacementForm(request.POST or None, agency=request.agency)
    if request.method == "POST" and form.is_valid():
        try:
            placement = actions.place_into_outcomes(client, request.user, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            count = placement.checkpoints.count()
            messages.success(
                request, _("%(client)s is in Outcomes: %(count)s checkpoints scheduled.") % {"client": client, "count": count}
            )
            return redirect("outcomes:client_checkpoints", pk=client.pk)
    context = {**client_frame(request, client, active=TAB), "form": form}
    return render(request, "outcomes/place.html", context, status=400 if request.method == "POST" else 200)


@require_POST
@perm_required(CHANGE)
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    placement = get_for_agency(request, Placement.objects.for_agency(request.agency).select_related("client"), pk=pk)
    try:
        actions.cancel_placement(placement, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The placement is cancelled and its checkpoints removed."))
    return redirect("outcomes:client_checkpoints", pk=placement.client_id)


# --- The Checkpoints tab -------------------------------------------------------------------------


@perm_required(VIEW)
def client_checkpoints(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    checkpoints = actions.latest_versions(Checkpoint.objects.for_agency(request.agency)).order_by("months", "pk")
    placements = list(
        Placement.objects.for_agency(request.agency)
        .filter(client=client)
        .select_related("program", "placed_by__user")
        .prefetch_related(Prefetch("checkpoints", queryset=checkpoints, to_attr="rows"))
        .order_by("cancelled_at", "-exit_date", "-pk")
    )
    may_send = has_perm(request, CHANGE) and not is_merged(client)
    for placement in placements:
        placement.placed_by_name = _staff(placement.placed_by)
        for row in placement.rows:
            row.badge = BADGES.get(row.status, "neutral")
            row.url = reverse("outcomes:checkpoint_detail", args=[row.pk])
            row.send_url = _url("outcomes:send_survey", row.pk) if may_send and row.status in actions.WAITING else ""
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=client,
        client_id=client.pk,
        object_repr=_("Checkpoints"),
    )
    context = {
        **client_frame(request, client, active=TAB),
        "placements": placements,
        "may_place": has_perm(request, CHANGE) and not is_merged(client),
    }
    return render(request, "outcomes/client_checkpoints.html", context)


# --- A checkpoint --------------------------------------------------------------------------------


def _picker(request: HttpRequest, checkpoint: Checkpoint) -> dict[str, Any]:
    try:
        from caseload.documents.picker import picker_context
    except ImportError:  # the documents app is still being built
        return {}
    context = picker_context(
        request, checkpoint.client, checkpoint, action_url=reverse("outcomes:checkpoint_attach", args=[checkpoint.pk])
    )
    if context and (checkpoint.is_locked or not has_perm(request, CHANGE)):
        context["picker"]["may_change"] = False
    return context


def _detail(
    request: HttpRequest, checkpoint: Checkpoint, *, form_html: str = "", editing: bool = False, status: int = 200
) -> HttpResponse:
    spec = actions.survey_spec(checkpoint)
    client = checkpoint.client
    writer = has_perm(request, CHANGE) and not is_merged(client) and not checkpoint.is_locked
    submission = getattr(checkpoint, "submission", None) if checkpoint.is_locked else None
    preview = None
    problems: list[str] = []
    if not checkpoint.is_locked:
        preview = cams.outcome_record(checkpoint)
        problems = actions.submission_problems(checkpoint)
    revisions = list(checkpoint.revisions.select_related("changed_by").order_by("-changed_at", "-pk"))
    for revision in revisions:
        revision.rows = [
            {
                "key": key,
                "label": _field_label(spec, key),
                "before": _answer_text(spec, key, revision.before),
                "after": _answer_text(spec, key, revision.after),
            }
            for key in revision.fields
        ]
    versions = list(
        Checkpoint.objects.for_agency(request.agency)
        .filter(placement_id=checkpoint.placement_id, months=checkpoint.months)
        .order_by("version", "pk")
        .values("pk", "version", "status")
    )
    newer = next((v for v in versions if v["version"] > checkpoint.version), None)
    context = {
        **client_frame(request, client, active=TAB),
        **_picker(request, checkpoint),
        "checkpoint": checkpoint,
        "badge": BADGES.get(checkpoint.status, "neutral"),
        "answers_html": rendering.render_answers(spec, checkpoint.answers) if checkpoint.answers else "",
        "form_html": form_html,
        "editing": editing,
        "may_write": writer,
        "may_submit": writer and has_perm(request, SUBMIT),
        "may_correct": checkpoint.is_locked and newer is None and has_perm(request, CHANGE) and not is_merged(client),
        "preview_json": json.dumps(preview, indent=2, ensure_ascii=False) if preview else "",
        "problems": problems,
        "submission": submission,
        "submission_json": json.dumps(submission.payload, indent=2, ensure_ascii=False) if submission else "",
        "revisions": revisions,
        "versions": versions if len(versions) > 1 else [],
        "newer": newer,
        "send_url": _url("outcomes:send_survey", checkpoint.pk) if writer and checkpoint.status in actions.WAITING else "",
        "reviewed_by": _staff(checkpoint.reviewed_by) if checkpoint.reviewed_by_id else "",
        "submitted_by": _staff(submission.submitted_by) if submission and submission.submitted_by_id else "",
    }
    return render(request, "outcomes/checkpoint_detail.html", context, status=status)


def _field_label(spec: dict, key: str) -> str:
    for field in spec.get("fields", []):
        if field["key"] == key:
            return engine.label(field["label"])
    return key


def _answer_text(spec: dict, key: str, answers: dict) -> str:
    if key not in answers:
        return "—"
    flat = engine.flatten(spec, answers)
    return flat.get(key) or str(answers.get(key))


@perm_required(VIEW)
def checkpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = _checkpoint(request, pk)
    record(
        agency=request.agency,
        actor=request.user,
        action=Action.VIEW,
        obj=checkpoint,
        client_id=checkpoint.client_id,
    )
    return _detail(request, checkpoint)


def _refuse_locked(request: HttpRequest, checkpoint: Checkpoint) -> HttpResponse | None:
    if checkpoint.is_locked:
        messages.error(request, str(actions.LOCKED))
        return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)
    if is_merged(checkpoint.client):
        return refuse_merged(
            request,
            checkpoint.client,
            _("This profile was merged into another one: review its checkpoints on the kept profile."),
            "outcomes:client_checkpoints",
        )
    return None


@perm_required(CHANGE)
def checkpoint_answers(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit the answers, or enter them on the client's behalf (``?on_behalf=1``)."""
    checkpoint = _checkpoint(request, pk)
    if refused := _refuse_locked(request, checkpoint):
        return refused
    spec = actions.survey_spec(checkpoint)
    on_behalf = (request.POST or request.GET).get("on_behalf") == "1" or not checkpoint.answers
    if request.method != "POST":
        html = rendering.render_fields(spec, checkpoint.answers or {}, {})
        return _detail(request, checkpoint, form_html=html, editing=True)
    answers, _group, upload_errors = rendering.answers_from_post(spec, request.POST, request.FILES)
    errors: dict[str, str] = dict(upload_errors or {})
    if not errors:
        try:
            actions.save_answers(checkpoint, request.user, answers, on_behalf=on_behalf)
        except engine.AnswerErrors as refused:
            errors = dict(refused.errors)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)
        else:
            messages.success(request, _("The answers are saved and the checkpoint is reviewed."))
            return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)
    html = rendering.render_fields(spec, answers, errors)
    return _detail(request, checkpoint, form_html=html, editing=True, status=400)


def _post_action(request: HttpRequest, pk: int, run, success: str) -> HttpResponse:
    checkpoint = _checkpoint(request, pk)
    if refused := _refuse_locked(request, checkpoint):
        return refused
    try:
        run(checkpoint)
    except engine.AnswerErrors as refused:
        messages.error(request, _("The answers are incomplete: %(fields)s.") % {"fields": ", ".join(sorted(refused.errors))})
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)
    return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)


@require_POST
@perm_required(CHANGE)
def checkpoint_review(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, lambda c: actions.mark_reviewed(c, request.user), _("The client's answers are marked as reviewed.")
    )


@require_POST
@perm_required(CHANGE)
def checkpoint_milestone(request: HttpRequest, pk: int) -> HttpResponse:
    achieved = request.POST.get("milestone_achieved") in ("on", "1", "true")
    return _post_action(request, pk, lambda c: actions.set_milestone(c, request.user, achieved), _("The milestone is saved."))


@require_POST
@perm_required(SUBMIT)
def checkpoint_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(
        request, pk, lambda c: actions.submit(c, request.user), _("Submitted to government. The checkpoint is now locked.")
    )


@require_POST
@perm_required(CHANGE)
def checkpoint_correct(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = _checkpoint(request, pk)
    try:
        new = actions.correct(checkpoint, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)
    messages.success(request, _("Version %(version)s created: change it and submit it again.") % {"version": new.version})
    return redirect("outcomes:checkpoint_detail", pk=new.pk)


@require_POST
@perm_required(CHANGE)
def checkpoint_attach(request: HttpRequest, pk: int) -> HttpResponse:
    checkpoint = _checkpoint(request, pk)
    if refused := _refuse_locked(request, checkpoint):
        return refused
    from caseload.documents.picker import handle_picker_post

    handle_picker_post(request, checkpoint.client, checkpoint)
    return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)


@perm_required(VIEW)
def submission_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The exact payload sent, as a JSON file (the checkpoint's pk)."""
    checkpoint = _checkpoint(request, pk)
    submission = getattr(checkpoint, "submission", None) if checkpoint.is_locked else None
    if submission is None:
        messages.info(request, _("This checkpoint has not been submitted."))
        return redirect("outcomes:checkpoint_detail", pk=checkpoint.pk)
    record(agency=request.agency, actor=request.user, action=Action.EXPORT, obj=checkpoint, client_id=checkpoint.client_id)
    response = HttpResponse(json.dumps(submission.payload, indent=2, ensure_ascii=False), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="cams-outcome-{checkpoint.pk}-v{checkpoint.version}.json"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Program schedules (Administration) ----------------------------------------------------------


def _survey_choices() -> list[tuple[str, str]]:
    keys = FormDefinition.objects.filter(scope="client").values_list("key", flat=True).distinct().order_by("key")
    choices = []
    for key in keys:
        definition = loading.current_definition(key)
        if definition is not None:
            choices.append((key, f"{definition} ({key})"))
    return choices


@perm_required(CONFIGURE)
def schedules(request: HttpRequest) -> HttpResponse:
    programs = list(Program.objects.for_agency(request.agency).order_by("-is_active", "name"))
    for program in programs:
        program.schedule = actions.schedule_of(program)
    return admin_render(request, "outcomes/schedules.html", {"programs": programs})


@perm_required(CONFIGURE)
def schedule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    program = get_for_agency(request, Program, pk=pk)
    plan = actions.schedule_of(program)
    initial = {
        "months": ", ".join(str(m) for m in plan.months),
        "survey_key": plan.survey_key,
        "reminder_after_days": plan.reminder_after_days,
        "link_valid_days": plan.link_valid_days,
    }
    form = ScheduleForm(request.POST or None, initial=initial, survey_choices=_survey_choices())
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_schedule(program, request.user, form.cleaned_data)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The follow-up schedule of %(program)s is saved.") % {"program": program.name})
            return redirect("outcomes:schedules")
    context = {"form": form, "program": program}
    return admin_render(request, "outcomes/schedule_form.html", context, status=400 if request.method == "POST" else 200)


urlpatterns = [
    path("clients/<int:pk>/checkpoints/", client_checkpoints, name="client_checkpoints"),
    path("clients/<int:pk>/outcomes/place/", place, name="place"),
    path("outcome-placements/<int:pk>/cancel/", cancel, name="placement_cancel"),
    path("checkpoints/<int:pk>/", checkpoint_detail, name="checkpoint_detail"),
    path("checkpoints/<int:pk>/answers/", checkpoint_answers, name="checkpoint_answers"),
    path("checkpoints/<int:pk>/review/", checkpoint_review, name="checkpoint_review"),
    path("checkpoints/<int:pk>/milestone/", checkpoint_milestone, name="checkpoint_milestone"),
    path("checkpoints/<int:pk>/submit/", checkpoint_submit, name="checkpoint_submit"),
    path("checkpoints/<int:pk>/correct/", checkpoint_correct, name="checkpoint_correct"),
    path("checkpoints/<int:pk>/attach/", checkpoint_attach, name="checkpoint_attach"),
    path("checkpoints/<int:pk>/submission.json", submission_download, name="submission_download"),
    path("admin/agency/follow-up/", schedules, name="schedules"),
    path("admin/agency/follow-up/<int:pk>/", schedule_edit, name="schedule_edit"),
]
