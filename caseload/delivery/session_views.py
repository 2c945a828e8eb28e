"""Sessions and the service forms filled in during them.

The client's Services tab lists their sessions (one-on-one, and group sessions they attended) with
the forms recorded in each; a session page holds its forms (and, for a group, its attendees, the
attendee forms and the support services given to them). Reading needs ``delivery.view``, writing
``delivery.change`` (403 otherwise); sessions and records come from the request's agency through
``visibility`` (404 for another agency's, a deleted one, one of a program the member is not in, and
a private form of someone else). Writes call ``sessions`` and ``records`` (one transaction, audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from caseload.audit.actions import Action, record
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.clients.models import Client
from caseload.clients.queries import search_clients
from caseload.clients.views import client_frame
from caseload.delivery import catalogue, records, sessions
from caseload.delivery.models import Attendee, ServiceRecord, Session, SessionType
from caseload.delivery.session_forms import GROUP_SESSION_TYPES, SessionForm
from caseload.delivery.visibility import may_change_record, records_for, sessions_for
from caseload.formbuilder import loading, rendering
from caseload.formbuilder.files import store_form_file
from caseload.formbuilder.models import FormDefinition
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.web.forms import add_errors

VIEW = "delivery.view"
CHANGE = "delivery.change"
TAB = "sessions"
PAGE_SIZE = 20


# --- Lookups ---------------------------------------------------------------------------------------


def _session(request: HttpRequest, pk: int) -> Session:
    rows = sessions_for(request.agency, request.membership).select_related("client", "program", "staff__user")
    session = get_for_agency(request, rows, pk=pk)
    if session.client_id:
        session.client.agency = request.agency
    return session


def _record(request: HttpRequest, pk: int) -> ServiceRecord:
    rows = records_for(request.agency, request.membership).select_related(
        "session", "client", "definition", "extension", "author__user", "program"
    )
    row = get_for_agency(request, rows, pk=pk)
    row.session.agency = request.agency
    if row.client_id:
        row.client.agency = request.agency
    return row


def _merged_refusal(request: HttpRequest, client: Client | None) -> HttpResponse | None:
    if client is None or not is_merged(client):
        return None
    return refuse_merged(
        request,
        client,
        _("This profile was merged into another one: record services on the kept profile."),
        "delivery:client_services",
    )


def _staff_name(membership) -> str:
    if membership is None:
        return _("the system")
    return membership.user.full_name or membership.user.email


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], *, client: Client | None, status: int = 200
) -> HttpResponse:
    """A page inside the client's frame (a one-on-one session's pages) or on its own (a group's)."""
    if client is not None:
        context.update(client_frame(request, client, active=TAB))
        context["base_template"] = "clients/client_base.html"
    else:
        context["base_template"] = "delivery/group_base.html"
    return render(request, template, context, status=status)


def session_url(session: Session) -> str:
    if session.session_type == SessionType.LANGUAGE_TRAINING and hasattr(session, "course"):
        return reverse("delivery:course_detail", args=[session.course.pk])
    return reverse("delivery:session_detail", args=[session.pk])


# --- The client's Services tab -------------------------------------------------------------------


@perm_required(VIEW)
def client_services(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    visible_records = (
        records_for(request.agency, request.membership).filter(client=client).select_related("definition", "author__user")
    )
    rows = (
        sessions_for(request.agency, request.membership)
        .filter(Q(client=client) | Q(attendees__client=client))
        .distinct()
        .select_related("program", "staff__user")
        .prefetch_related(Prefetch("records", queryset=visible_records.order_by("created_at", "pk"), to_attr="client_records"))
        .order_by("-date", "-start_time", "-pk")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    record(
        agency=request.agency, actor=request.user, action=Action.VIEW, obj=client, client_id=client.pk, object_repr=_("Services")
    )
    for session in page.object_list:
        session.staff_name = _staff_name(session.staff)
        session.url = session_url(session)
    context = {
        **client_frame(request, client, active=TAB),
        "page": page,
        "may_write": has_perm(request, CHANGE) and not is_merged(client),
    }
    return render(request, "delivery/client_services.html", context)


# --- Sessions --------------------------------------------------------------------------------------


def _session_form_page(
    request: HttpRequest, form: SessionForm, *, client: Client | None, session: Session | None, status: int
) -> HttpResponse:
    group = client is None
    if session is not None:
        title = _("Edit session")
        cancel = reverse("delivery:session_detail", args=[session.pk])
    elif group:
        title = _("New group activity")
        cancel = reverse("delivery:sessions")
    else:
        title = _("New session")
        cancel = reverse("delivery:client_services", args=[client.pk])
    context: dict[str, Any] = {"form": form, "title": title, "cancel_url": cancel, "session": session}
    return _page(request, "delivery/session_form.html", context, client=client, status=status)


def _new_session(request: HttpRequest, client: Client | None) -> HttpResponse:
    """A one-on-one session with ``client``, or a group activity (no client); then its forms."""
    form = SessionForm(request.POST or None, agency=request.agency, membership=request.membership, group=client is None)
    if request.method == "POST" and form.is_valid():
        try:
            session = sessions.create_session(request.agency, request.user, form.session_data(), client=client)
        except ValidationError as error:
            add_errors(form, error)
        else:
            if client is None:
                messages.success(request, _("The group activity is saved. Add its attendees and forms."))
            else:
                messages.success(request, _("The session is saved. Add the service forms given in it."))
            return redirect("delivery:session_detail", pk=session.pk)
    return _session_form_page(request, form, client=client, session=None, status=400 if request.method == "POST" else 200)


@perm_required(CHANGE)
def session_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if refused := _merged_refusal(request, client):
        return refused
    return _new_session(request, client)


@perm_required(CHANGE)
def group_new(request: HttpRequest) -> HttpResponse:
    return _new_session(request, None)


@perm_required(VIEW)
def session_list(request: HttpRequest) -> HttpResponse:
    """Group activities of the member's programs, newest first."""
    kind = request.GET.get("type", "")
    rows = (
        sessions_for(request.agency, request.membership)
        .filter(session_type__in=GROUP_SESSION_TYPES)
        .select_related("program", "staff__user")
        .annotate(named=Count("attendees", distinct=True))
        .order_by("-date", "-start_time", "-pk")
    )
    if kind in GROUP_SESSION_TYPES:
        rows = rows.filter(session_type=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for session in page.object_list:
        session.staff_name = _staff_name(session.staff)
    context = {
        "page": page,
        "types": [(t.value, t.label) for t in GROUP_SESSION_TYPES],
        "kind": kind,
        "may_write": has_perm(request, CHANGE),
    }
    return render(request, "delivery/session_list.html", context)


def _attendee_rows(request: HttpRequest, session: Session, visible: list[ServiceRecord]) -> list[dict[str, Any]]:
    by_client: dict[int, list[ServiceRecord]] = {}
    for row in visible:
        if row.client_id:
            by_client.setdefault(row.client_id, []).append(row)
    attendees = Attendee.objects.for_agency(request.agency).filter(session=session).select_related("client")
    offered = list(_definition_names(catalogue.ATTENDEE_FORMS.get(session.session_type, [])).items())
    rows = []
    for attendee in attendees:
        done = by_client.get(attendee.client_id, [])
        given = {row.definition.key for row in done}
        rows.append(
            {
                "attendee": attendee,
                "client": attendee.client,
                "records": done,
                "missing": [(key, label) for key, label in offered if key not in given],
            }
        )
    return rows


@perm_required(VIEW)
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    visible = list(
        records_for(request.agency, request.membership)
        .filter(session=session)
        .select_related("definition", "author__user", "client")
        .order_by("created_at", "pk")
    )
    membership = request.membership
    writer = has_perm(request, CHANGE)
    for row in visible:
        row.author_name = _staff_name(row.author)
        row.may_change = writer and may_change_record(row, membership)
    group_key = catalogue.GROUP_FORM.get(session.session_type)
    context: dict[str, Any] = {
        "session": session,
        "staff_name": _staff_name(session.staff),
        "funders": list(session.funders.all()),
        "records": [r for r in visible if r.client_id is None] if session.is_group else visible,
        "may_write": writer and not (session.client_id and is_merged(session.client)),
        "forms": _offered_forms(session),
        "group_form": _definition_name(group_key),
        "group_form_key": group_key,
        "group_record": next((r for r in visible if r.definition.key == group_key), None),
    }
    if session.is_group:
        context["attendees"] = _attendee_rows(request, session, visible)
        context["support"] = (
            list(session.supportive_services.filter(deleted_at__isnull=True).select_related("client", "service_type"))
            if has_perm(request, "casework.view")
            else []
        )
    return _page(request, "delivery/session_detail.html", context, client=session.client)


def _definition_name(key: str | None) -> str:
    return _definition_names([key])[key] if key else ""


def _definition_names(keys) -> dict[str, str]:
    """Each form's current name, in one query; a form not loaded shows its key."""
    names = loading.current_names(keys)
    return {key: names.get(key, key) for key in keys}


def _offered_forms(session: Session) -> list[tuple[str, str]]:
    """The one-on-one forms a worker may add to this session (group sessions: its attendee and group forms)."""
    if session.is_group:
        return []
    return list(_definition_names(records.allowed_forms(session)).items())


@perm_required(CHANGE)
def session_edit(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    if refused := _merged_refusal(request, session.client):
        return refused
    form = SessionForm(
        request.POST or None, agency=request.agency, membership=request.membership, group=session.is_group, session=session
    )
    if request.method == "POST" and form.is_valid():
        try:
            sessions.update_session(session, request.user, form.session_data())
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, _("The session is saved."))
            return redirect("delivery:session_detail", pk=session.pk)
    return _session_form_page(
        request, form, client=session.client, session=session, status=400 if request.method == "POST" else 200
    )


@perm_required(CHANGE)
@require_http_methods(["GET", "POST"])
def session_delete(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session(request, pk)
    if request.method == "POST":
        sessions.delete_session(session, request.user)
        messages.success(request, _("The session and its forms are deleted."))
        if session.client_id:
            return redirect("delivery:client_services", pk=session.client_id)
        return redirect("delivery:sessions")
    context: dict[str, Any] = {"session": session, "count": session.records.filter(deleted_at__isnull=True).count()}
    return _page(request, "delivery/session_delete.html", context, client=session.client)


# --- Attendees -------------------------------------------------------------------------------------


@perm_required(CHANGE)
def attendees_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Find clients by name, phone or date of birth and add the ticked ones to the group session."""
    session = _session(request, pk)
    if not session.is_group:
        raise Http404
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("client") if v.isdigit()]
        clients = list(Client.objects.for_agency(request.agency).filter(pk__in=ids).exclude(status=Client.Status.MERGED))
        if not clients:
            messages.error(request, _("Tick the clients to add."))
        else:
            try:
                added = sessions.add_attendees(session, request.user, clients)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("%(count)s attendees added.") % {"count": len(added)})
                return redirect("delivery:session_detail", pk=session.pk)
    query = request.GET.get("q", "").strip()
    matches = search_clients(request.agency, query, limit=25) if query else []
    present = set(session.attendees.values_list("client_id", flat=True))
    context = {"session": session, "query": query, "matches": matches, "present": present}
    return render(request, "delivery/attendees_add.html", context)


@perm_required(CHANGE)
@require_POST
def attendee_remove(request: HttpRequest, pk: int) -> HttpResponse:
    attendee = get_for_agency(request, Attendee.objects.for_agency(request.agency).select_related("session", "client"), pk=pk)
    session = _session(request, attendee.session_id)
    try:
        sessions.remove_attendee(attendee, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("%(name)s is no longer an attendee.") % {"name": attendee.client})
    return redirect("delivery:session_detail", pk=session.pk)


# --- Service forms ---------------------------------------------------------------------------------


def _status(request: HttpRequest) -> str:
    return ServiceRecord.Status.COMPLETED if request.POST.get("save") == "completed" else ServiceRecord.Status.DRAFT


def _split_errors(error: ValidationError) -> tuple[dict[str, str], list[str]]:
    """Answer errors by field path (for the fields) and the others (for the top of the page)."""
    fields: dict[str, str] = {}
    general: list[str] = []
    for key, messages_ in error.message_dict.items():
        if key.startswith("answers."):
            fields[key.removeprefix("answers.")] = " ".join(messages_)
        else:
            general.extend(messages_)
    return fields, general


def _file_saver(request: HttpRequest, client: Client | None):
    def save(field: dict, uploaded) -> int:
        return store_form_file(request.agency, client, request.user, uploaded, max_size=field.get("max_size")).pk

    return save


def _record_page(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    return _page(request, "delivery/record_form.html", context, client=context["session"].client, status=status)


def _target_client(request: HttpRequest, session: Session, source) -> Client | None:
    if not session.is_group:
        return session.client
    client_id = source.get("client", "")
    if not str(client_id).isdigit():
        return None
    attendee = (
        Attendee.objects.for_agency(request.agency)
        .filter(session=session, client_id=int(client_id))
        .select_related("client")
        .first()
    )
    return attendee.client if attendee else None


@perm_required(CHANGE)
def record_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill in a service form in the session (``?form=<key>``, for a group attendee ``&client=<pk>``)."""
    session = _session(request, pk)
    if refused := _merged_refusal(request, session.client):
        return refused
    source = request.POST if request.method == "POST" else request.GET
    key = source.get("form", "")
    if key not in records.allowed_forms(session):
        if request.method == "POST":
            raise Http404
        context = {"session": session, "forms": _offered_forms(session)}
        return _page(request, "delivery/record_choose.html", context, client=session.client)
    try:
        definition, _extension, spec = loading.form_spec(request.agency, key)
    except FormDefinition.DoesNotExist as missing:
        raise Http404 from missing
    client = _target_client(request, session, source)
    if definition.scope == FormDefinition.Scope.CLIENT and session.is_group and client is None:
        raise Http404
    answers: dict[str, Any] = {}
    field_errors: dict[str, str] = {}
    general: list[str] = []
    extra_rows: dict[str, int] = {}
    is_private = False
    if request.method == "POST":
        is_private = request.POST.get("is_private") == "on"
        answers, add_group, field_errors = rendering.answers_from_post(
            spec, request.POST, request.FILES, prefix="f", save_file=_file_saver(request, client)
        )
        if add_group:
            extra_rows[add_group] = 1
        elif not field_errors:
            status = _status(request)
            try:
                row = records.create_record(
                    session, request.user, key, answers, client=client, status=status, is_private=is_private
                )
            except ValidationError as error:
                field_errors, general = _split_errors(error)
            else:
                return _saved(request, row)
    context = {
        "session": session,
        "definition": definition,
        "target": client,
        "fields_html": rendering.render_fields(spec, answers, field_errors, prefix="f", extra_rows=extra_rows),
        "general_errors": general,
        "is_private": is_private,
        "record": None,
        "form_key": key,
        "cancel_url": reverse("delivery:session_detail", args=[session.pk]),
    }
    posted_with_errors = request.method == "POST" and not extra_rows
    return _record_page(request, context, status=400 if posted_with_errors else 200)


def _saved(request: HttpRequest, row: ServiceRecord) -> HttpResponse:
    if row.status == ServiceRecord.Status.DRAFT:
        messages.success(
            request,
            _("%(form)s is saved as a draft. It stays on your dashboard until you complete it.") % {"form": row.definition.name},
        )
    else:
        messages.success(request, _("%(form)s is saved.") % {"form": row.definition.name})
    return redirect("delivery:record_detail", pk=row.pk)


@perm_required(VIEW)
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = _record(request, pk)
    spec = loading.record_spec(row.definition, row.extension)
    if row.client_id:
        record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=row, client_id=row.client_id)
    newest = loading.current_definition(row.definition.key)
    context: dict[str, Any] = {
        "record": row,
        "session": row.session,
        "answers_html": rendering.render_answers(spec, row.answers),
        "author_name": _staff_name(row.author),
        "may_change": has_perm(request, CHANGE) and may_change_record(row, request.membership),
        "older_version": newest is not None and newest.version != row.definition.version,
    }
    if row.client_id:
        from caseload.documents.picker import picker_context

        action_url = reverse("documents:service_record_files", args=[row.pk])
        context.update(picker_context(request, row.client, row, action_url=action_url))
    return _page(request, "delivery/record_detail.html", context, client=row.session.client)


def _writable(request: HttpRequest, pk: int) -> ServiceRecord:
    row = _record(request, pk)
    if not may_change_record(row, request.membership):
        raise PermissionDenied
    return row


@perm_required(CHANGE)
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = _writable(request, pk)
    if refused := _merged_refusal(request, row.client):
        return refused
    spec = loading.record_spec(row.definition, row.extension)
    answers = dict(row.answers)
    field_errors: dict[str, str] = {}
    general: list[str] = []
    extra_rows: dict[str, int] = {}
    is_author = request.membership is not None and row.author_id == request.membership.pk
    is_private = row.is_private
    if request.method == "POST":
        if is_author:
            is_private = request.POST.get("is_private") == "on"
        answers, add_group, field_errors = rendering.answers_from_post(
            spec, request.POST, request.FILES, prefix="f", save_file=_file_saver(request, row.client)
        )
        if add_group:
            extra_rows[add_group] = 1
        elif not field_errors:
            status = _status(request) if row.status == ServiceRecord.Status.DRAFT else ServiceRecord.Status.COMPLETED
            try:
                row = records.update_record(
                    row, request.user, answers, status=status, is_private=is_private if is_author else None
                )
            except ValidationError as error:
                field_errors, general = _split_errors(error)
            else:
                return _saved(request, row)
    context = {
        "session": row.session,
        "definition": row.definition,
        "target": row.client,
        "fields_html": rendering.render_fields(spec, answers, field_errors, prefix="f", extra_rows=extra_rows),
        "general_errors": general,
        "is_private": is_private,
        "may_set_private": is_author,
        "record": row,
        "form_key": row.definition.key,
        "cancel_url": reverse("delivery:record_detail", args=[row.pk]),
    }
    posted_with_errors = request.method == "POST" and not extra_rows
    return _record_page(request, context, status=400 if posted_with_errors else 200)


@perm_required(CHANGE)
@require_http_methods(["GET", "POST"])
def record_delete(request: HttpRequest, pk: int) -> HttpResponse:
    row = _writable(request, pk)
    if request.method == "POST":
        records.delete_record(row, request.user)
        messages.success(request, _("The form is deleted."))
        return redirect("delivery:session_detail", pk=row.session_id)
    context: dict[str, Any] = {"record": row, "session": row.session}
    return _page(request, "delivery/record_delete.html", context, client=row.session.client)


# --- Support services given to attendees --------------------------------------------------------


@perm_required(CHANGE)
def support_new(request: HttpRequest, pk: int) -> HttpResponse:
    """A supportive service (childcare, transportation, interpretation, ...) given to an attendee of a group session."""
    from caseload.casework import services
    from caseload.casework.service_forms import ServiceForm

    session = _session(request, pk)
    if not session.is_group:
        raise Http404
    if not has_perm(request, "casework.change"):
        raise PermissionDenied
    attendees = list(Attendee.objects.for_agency(request.agency).filter(session=session).select_related("client"))
    may_approve = services.may_approve_overspend(request.agency, request.user)
    form = ServiceForm(request.POST or None, agency=request.agency, may_approve=may_approve)
    chosen = request.POST.getlist("client") if request.method == "POST" else []
    errors: list[str] = []
    if request.method == "POST":
        targets = [a.client for a in attendees if str(a.client_id) in chosen]
        if not targets:
            errors.append(_("Tick the attendees who received this service."))
        elif form.is_valid():
            try:
                sessions.record_support(session, request.user, targets, form.cleaned_data)
            except ValidationError as error:
                add_errors(form, error)
            else:
                messages.success(request, _("Support service recorded for %(count)s attendees.") % {"count": len(targets)})
                return redirect("delivery:session_detail", pk=session.pk)
    context = {"session": session, "form": form, "attendees": attendees, "chosen": chosen, "errors": errors}
    return render(request, "delivery/support_form.html", context, status=400 if request.method == "POST" else 200)


urlpatterns = [
    path("clients/<int:pk>/sessions/", client_services, name="client_services"),
    path("clients/<int:pk>/sessions/new/", session_new, name="session_new"),
    path("sessions/", session_list, name="sessions"),
    path("sessions/new/", group_new, name="group_new"),
    path("sessions/<int:pk>/", session_detail, name="session_detail"),
    path("sessions/<int:pk>/edit/", session_edit, name="session_edit"),
    path("sessions/<int:pk>/delete/", session_delete, name="session_delete"),
    path("sessions/<int:pk>/attendees/", attendees_add, name="attendees_add"),
    path("sessions/<int:pk>/support/", support_new, name="support_new"),
    path("sessions/<int:pk>/forms/new/", record_new, name="record_new"),
    path("attendees/<int:pk>/remove/", attendee_remove, name="attendee_remove"),
    path("service-forms/<int:pk>/", record_detail, name="record_detail"),
    path("service-forms/<int:pk>/edit/", record_edit, name="record_edit"),
    path("service-forms/<int:pk>/delete/", record_delete, name="record_delete"),
]
