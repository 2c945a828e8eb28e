"""Saved client lists and batch actions: the pages.

Every page needs ``casework.batch``. Clients come from the request's agency only: ids of another
agency are left out with a warning, never written. A saved list another member keeps private is
a 404, like another agency's. A batch runs in three steps that work without JavaScript — who is
selected and the form, a confirm step, then the run — and one page sums up what it created.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_http_methods

from caseload.casework import lists as list_actions
from caseload.casework.batch import clients_of, records_of, run_batch
from caseload.casework.batch_forms import FORMS, batch_form
from caseload.casework.communications import agency_today
from caseload.casework.models import BatchAction, CaseNote, ClientList, Communication, SupportiveService, Task
from caseload.casework.records import may_see, visible
from caseload.casework.selection import Selection, from_request, list_clients, max_clients, parse_ids, visible_lists
from caseload.clients.models import Client
from caseload.tenancy.access import get_for_agency, perm_required
from caseload.web.tables import Column, Table, table_response

BATCH = "casework.batch"
# Runs remembered per session so a second click on "Create" opens the batch made by the first.
REMEMBERED_RUNS = 20
SESSION_RUNS = "casework_batch_runs"
# The id of the batch bar's form (casework/_batch_bar.html), which the lists' checkboxes belong to.
BATCH_FORM_ID = "batch-selection"


def _client_name(client: Client) -> str:
    from caseload.clients.views import legal_name

    return legal_name(client)


def _client_link(client: Client) -> str:
    return reverse("clients:detail", args=[client.pk])


def select_cell(form_id: str):
    """A client's checkbox for the form ``form_id``, as a function of the client (the label translated once, not per row)."""
    # Named by number: the row shows it too, and the name stays once in the page (search and tests count it).
    label_of = str(_("Select client number %(number)s"))

    def cell(client: Client) -> str:
        label = label_of % {"number": client.client_number}
        return format_html(
            '<input type="checkbox" class="batch-check" name="client" value="{}" form="{}" aria-label="{}">',
            client.pk,
            form_id,
            label,
        )

    return cell


def select_column(form_id: str) -> Column:
    """A column of checkboxes that belong to the form ``form_id`` (outside the table, so tables need no form of their own)."""
    return Column("select", format_html('<span class="visually-hidden">{}</span>', _("Select")), value=select_cell(form_id))


def _add_errors(form: forms.Form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put an action's errors on the form's fields (a field the form lacks: on the form, named)."""
    aliases = aliases or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        name = aliases.get(field, field)
        if name in form.fields:
            form.add_error(name, errors)
        elif field == NON_FIELD_ERRORS or field == "clients":
            form.add_error(None, errors)
        else:
            form.add_error(None, [f"{field}: {message}" for message in ValidationError(errors).messages])


# --- Saved lists ---------------------------------------------------------------------------------


class ClientListForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    is_shared = forms.BooleanField(
        label=gettext_lazy("Share with the agency"),
        required=False,
        help_text=gettext_lazy("Everyone who runs batch actions can see and change a shared list."),
    )


class AddByNumberForm(forms.Form):
    numbers = forms.CharField(
        label=gettext_lazy("Client numbers"),
        max_length=2000,
        help_text=gettext_lazy("One or more, separated by commas or spaces."),
    )

    def clean_numbers(self) -> list[int]:
        text = self.cleaned_data["numbers"].replace(",", " ")
        numbers = []
        for part in text.split():
            if not part.isdigit() or len(part) > 9:
                raise forms.ValidationError(_("“%(value)s” is not a client number.") % {"value": part[:20]})
            numbers.append(int(part))
        return numbers


def _sharing_badge(client_list: ClientList) -> str:
    if client_list.is_shared:
        return format_html('<span class="badge badge-info">{}</span>', _("Shared"))
    return format_html('<span class="badge badge-neutral">{}</span>', _("Private"))


def _owner_name(client_list: ClientList) -> str | None:
    owner = client_list.owner
    return (owner.user.full_name or owner.user.email) if owner is not None else None


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def client_lists(request: HttpRequest) -> HttpResponse:
    form = ClientListForm(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            created = list_actions.create_list(request.agency, request.user, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(
                request,
                _("List “%(name)s” created. Add clients from the clients list, or by number here.") % {"name": created.name},
            )
            return redirect("casework:list_detail", pk=created.pk)
    queryset = visible_lists(request.agency, request.membership).select_related("owner__user").annotate(size=Count("entries"))
    table = Table(
        request,
        queryset,
        columns=[
            Column("name", _("Name"), sort="name", link=lambda cl: reverse("casework:list_detail", args=[cl.pk])),
            Column("size", _("Clients"), sort="size", numeric=True),
            Column("is_shared", _("Sharing"), value=_sharing_badge),
            Column("owner", _("Owner"), sort=("owner__user__full_name",), value=_owner_name),
            Column("created_at", _("Created"), sort="created_at"),
        ],
        default_sort="name",
        caption=_("Saved client lists"),
        empty_title=_("No saved lists yet"),
        empty_text=_("Make a list below, or tick clients on the clients list and choose “Add to list”."),
        empty_icon="layers",
    )
    response = table_response(request, "casework/lists.html", {"table": table, "form": form}, table)
    if form.errors:
        response.status_code = 400
    return response


def _list_for(request: HttpRequest, pk: int) -> ClientList:
    return get_for_agency(request, visible_lists(request.agency, request.membership).select_related("owner__user"), pk=pk)


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def list_detail(request: HttpRequest, pk: int) -> HttpResponse:
    client_list = _list_for(request, pk)
    add_form = AddByNumberForm(
        request.POST if request.method == "POST" and request.POST.get("action") == "add" else None, prefix="add"
    )
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "remove":
            ids = parse_ids(request.POST.getlist("client"))
            removed = list_actions.remove_clients(client_list, request.user, ids[: max_clients()])
            if removed:
                messages.success(
                    request,
                    ngettext("%(count)s client taken off the list.", "%(count)s clients taken off the list.", removed)
                    % {"count": removed},
                )
            else:
                messages.warning(request, _("Tick the clients to take off the list first."))
            return redirect("casework:list_detail", pk=client_list.pk)
        if action == "add" and add_form.is_valid():
            numbers = add_form.cleaned_data["numbers"]
            found = dict(
                Client.objects.for_agency(request.agency)
                .filter(agency=request.agency, client_number__in=numbers)
                .values_list("client_number", "pk")
            )
            try:
                added = list_actions.add_clients(client_list, request.user, list(found.values()))
            except ValidationError as error:
                _add_errors(add_form, error, {"clients": "numbers"})
            else:
                unknown = [str(n) for n in numbers if n not in found]
                if unknown:
                    messages.warning(
                        request,
                        _("No client of your agency has these numbers: %(numbers)s.") % {"numbers": ", ".join(unknown[:20])},
                    )
                messages.success(
                    request, ngettext("%(count)s client added.", "%(count)s clients added.", added) % {"count": added}
                )
                return redirect("casework:list_detail", pk=client_list.pk)
    table = Table(
        request,
        list_clients(client_list),
        columns=[
            select_column("list-remove"),
            Column("name", _("Name"), sort=("family_name", "given_name"), value=_client_name, link=_client_link),
            Column("client_number", _("Client number"), sort="client_number", numeric=True),
            Column("status", _("Status"), value=lambda c: c.get_status_display()),
        ],
        default_sort="name",
        caption=_("Clients on this list"),
        empty_title=_("No clients on this list yet"),
        empty_text=_("Tick clients on the clients list and choose “Add to list”, or add them by number."),
        empty_icon="users",
    )
    context = {
        "client_list": client_list,
        "table": table,
        "add_form": add_form,
        "may_manage": list_actions.may_manage(client_list, request.membership),
        "kinds": [(value, CREATE_LABELS[value]) for value in BatchAction.Kind.values],
        "owner_name": _owner_name(client_list),
    }
    response = table_response(request, "casework/list_detail.html", context, table)
    if add_form.errors:
        response.status_code = 400
    return response


def _managed_list(request: HttpRequest, pk: int) -> ClientList:
    from django.core.exceptions import PermissionDenied

    client_list = _list_for(request, pk)
    if not list_actions.may_manage(client_list, request.membership):
        raise PermissionDenied
    return client_list


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def list_edit(request: HttpRequest, pk: int) -> HttpResponse:
    client_list = _managed_list(request, pk)
    initial = {"name": client_list.name, "is_shared": client_list.is_shared}
    form = ClientListForm(request.POST if request.method == "POST" else None, initial=initial)
    if form.is_bound and form.is_valid():
        try:
            list_actions.update_list(client_list, request.user, form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, _("List saved."))
            return redirect("casework:list_detail", pk=client_list.pk)
    return render(
        request, "casework/list_edit.html", {"client_list": client_list, "form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def list_delete(request: HttpRequest, pk: int) -> HttpResponse:
    client_list = _managed_list(request, pk)
    if request.method == "POST":
        name = client_list.name
        list_actions.delete_list(client_list, request.user)
        messages.success(request, _("List “%(name)s” deleted. Its clients are unchanged.") % {"name": name})
        return redirect("casework:lists")
    size = list_clients(client_list).count()
    return render(request, "casework/list_delete.html", {"client_list": client_list, "size": size})


class AddToListForm(forms.Form):
    client_list = forms.ModelChoiceField(
        label=gettext_lazy("Add to a list"),
        queryset=ClientList.objects.none(),
        required=False,
        empty_label=gettext_lazy("Choose a list"),
    )
    new_name = forms.CharField(label=gettext_lazy("Or make a new list named"), max_length=120, required=False)
    is_shared = forms.BooleanField(label=gettext_lazy("Share the new list with the agency"), required=False)

    def __init__(self, *args: Any, lists, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["client_list"].queryset = lists

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("client_list") and not (data.get("new_name") or "").strip():
            self.add_error("client_list", _("Choose a list, or give a name for a new one."))
        elif data.get("client_list") and (data.get("new_name") or "").strip():
            self.add_error("new_name", _("Choose a list or make a new one, not both."))
        return data


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def list_add(request: HttpRequest) -> HttpResponse:
    """Add the selected clients (or every client matching a filter) to a saved list."""
    params = request.POST if request.method == "POST" else request.GET
    selection = from_request(request, params)
    lists = visible_lists(request.agency, request.membership).order_by("name")
    adding = request.method == "POST" and params.get("step") == "add"
    form = AddToListForm(params if adding else None, lists=lists, prefix="to")
    if adding and selection is not None and not selection.error and form.is_valid():
        try:
            if form.cleaned_data["client_list"] is not None:
                target = form.cleaned_data["client_list"]
                added = list_actions.add_clients(target, request.user, selection.clients)
            else:
                target = list_actions.create_list(
                    request.agency,
                    request.user,
                    {"name": form.cleaned_data["new_name"], "is_shared": form.cleaned_data["is_shared"]},
                    clients=selection.clients,
                )
                added = len(selection.clients) - len(selection.merged)
        except ValidationError as error:
            _add_errors(form, error, {"name": "new_name"})
        else:
            messages.success(
                request,
                ngettext("%(count)s client added to “%(name)s”.", "%(count)s clients added to “%(name)s”.", added)
                % {"count": added, "name": target.name},
            )
            return redirect("casework:list_detail", pk=target.pk)
    context = {"selection": selection, "form": form, "carry": selection.carry if selection else {}}
    return render(request, "casework/list_add.html", context, status=400 if form.errors else 200)


# --- Batch actions -------------------------------------------------------------------------------


def _hidden_values(form: forms.Form, params) -> list[tuple[str, str]]:
    """The form's submitted values as (name, value) pairs, to carry them through the confirm step."""
    pairs = []
    for name in form.fields:
        html_name = form.add_prefix(name)
        for value in params.getlist(html_name):
            pairs.append((html_name, value))
    return pairs


def _remember_run(request: HttpRequest, token: str, batch: BatchAction) -> None:
    runs = dict(request.session.get(SESSION_RUNS, {}))
    runs[token] = batch.pk
    request.session[SESSION_RUNS] = dict(list(runs.items())[-REMEMBERED_RUNS:])


def _recent_batches(request: HttpRequest):
    return BatchAction.objects.for_agency(request.agency).filter(agency=request.agency).select_related("created_by__user")[:10]


def _selection_context(request: HttpRequest, selection: Selection | None) -> dict[str, Any]:
    return {"selection": selection, "carry": selection.carry if selection else {}, "max_clients": max_clients()}


# What the summary's button says, by kind.
CREATE_LABELS = {
    BatchAction.Kind.NOTE: gettext_lazy("Add a case note"),
    BatchAction.Kind.COMMUNICATION: gettext_lazy("Record a communication"),
    BatchAction.Kind.TASK: gettext_lazy("Create a task"),
    BatchAction.Kind.SERVICE: gettext_lazy("Record a supportive service"),
}
ALIASES = {
    BatchAction.Kind.COMMUNICATION: {"kind": "communication_kind"},
    BatchAction.Kind.TASK: {"for_client": "assigned_to"},
}


@require_http_methods(["GET", "HEAD", "POST"])
@perm_required(BATCH)
def batch_new(request: HttpRequest) -> HttpResponse:
    params = request.POST if request.method == "POST" else request.GET
    selection = from_request(request, params)
    kind = params.get("kind", "")
    step = params.get("step", "") if request.method == "POST" else ""
    context: dict[str, Any] = {
        **_selection_context(request, selection),
        "kind": kind if kind in FORMS else "",
        "kind_label": BatchAction.Kind(kind).label if kind in FORMS else "",
        "kinds": [(value, CREATE_LABELS[value]) for value in BatchAction.Kind.values],
    }
    if selection is None:
        context["recent"] = _recent_batches(request)
        return render(request, "casework/batch_new.html", context)
    for warning in selection.warnings:
        messages.warning(request, warning)
    if selection.error or selection.merged or kind not in FORMS:
        return render(request, "casework/batch_new.html", context, status=400 if selection.error or selection.merged else 200)

    bound = step in ("form", "confirm", "edit")
    form = batch_form(
        kind, params if bound else None, agency=request.agency, membership=request.membership, today=agency_today(request.agency)
    )
    context["form"] = form
    if bound and form.is_valid() and step in ("form", "confirm"):
        if step == "confirm":
            token = params.get("token", "")
            done = request.session.get(SESSION_RUNS, {}).get(token)
            if done:
                return redirect("casework:batch_detail", pk=done)
            try:
                batch = run_batch(
                    request.agency, request.user, kind, selection.clients, form.data_for_action(), source=selection.source
                )
            except ValidationError as error:
                _add_errors(form, error, ALIASES.get(kind))
                context["failed"] = True
                return render(request, "casework/batch_new.html", context, status=400)
            if token:
                _remember_run(request, token, batch)
            messages.success(
                request,
                ngettext(
                    "Done: %(kind)s created for %(count)s client.",
                    "Done: %(kind)s created for %(count)s clients.",
                    batch.client_count,
                )
                % {"kind": batch.get_kind_display().lower(), "count": batch.client_count},
            )
            return redirect("casework:batch_detail", pk=batch.pk)
        context.update(confirm=True, summary=form.summary(), hidden=_hidden_values(form, params), token=uuid.uuid4().hex)
        return render(request, "casework/batch_new.html", context)
    return render(request, "casework/batch_new.html", context, status=400 if bound and form.errors else 200)


SAMPLE_FIELDS: dict[str, tuple[str, ...]] = {
    BatchAction.Kind.NOTE: ("note_type", "program", "contact_date", "status", "is_private", "body"),
    BatchAction.Kind.COMMUNICATION: ("kind", "direction", "date", "subject", "program", "status", "body"),
    BatchAction.Kind.TASK: ("title", "due_on", "priority", "assigned_to", "for_client", "program", "description"),
    BatchAction.Kind.SERVICE: ("service_type", "date", "amount", "vendor", "grant", "program", "justification"),
}
LONG_FIELDS = {"body", "description", "justification"}


def _sample_rows(row) -> list[dict[str, Any]]:
    """One created record's fields, as the summary shows them (every record of a batch has the same)."""
    from django.utils import formats

    rows = []
    for name in SAMPLE_FIELDS[_kind_of(row)]:
        field = row._meta.get_field(name)
        value = getattr(row, name)
        if getattr(field, "choices", None):
            value = getattr(row, f"get_{name}_display")()
        elif isinstance(value, bool):
            value = _("Yes") if value else _("No")
        elif hasattr(value, "isoformat"):
            value = formats.date_format(value, "DATE_FORMAT")
        rows.append(
            {
                "label": field.verbose_name,
                "value": value if value not in (None, "") else "—",
                "long": name in LONG_FIELDS,
                "markdown": isinstance(row, CaseNote) and name == "body",
            }
        )
    return rows


def _kind_of(row) -> str:
    return {
        CaseNote: BatchAction.Kind.NOTE,
        Communication: BatchAction.Kind.COMMUNICATION,
        Task: BatchAction.Kind.TASK,
        SupportiveService: BatchAction.Kind.SERVICE,
    }[type(row)]


@require_http_methods(["GET", "HEAD"])
@perm_required(BATCH)
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    batch = get_for_agency(request, BatchAction.objects.for_agency(request.agency).select_related("created_by__user"), pk=pk)
    batch.agency = request.agency
    records = records_of(batch)
    shown = visible(records, request.membership)
    sample = shown.order_by("pk").first()
    table = Table(
        request,
        clients_of(batch),
        columns=[
            Column("name", _("Name"), sort=("family_name", "given_name"), value=_client_name, link=_client_link),
            Column("client_number", _("Client number"), sort="client_number", numeric=True),
            Column("status", _("Status"), value=lambda c: c.get_status_display()),
        ],
        default_sort="name",
        caption=_("Clients in this batch"),
        empty_title=_("No records of this batch remain"),
        empty_icon="users",
    )
    context = {
        "batch": batch,
        "table": table,
        "sample": _sample_rows(sample) if sample is not None and may_see(sample, request.membership) else None,
        "private": sample is None and records.filter(deleted_at__isnull=True).exists(),
        "deleted": records.filter(deleted_at__isnull=False).count(),
        "author": (batch.created_by.user.full_name or batch.created_by.user.email) if batch.created_by else None,
    }
    return table_response(request, "casework/batch_detail.html", context, table)


urlpatterns = [
    path("lists/", client_lists, name="lists"),
    path("lists/add/", list_add, name="list_add"),
    path("lists/<int:pk>/", list_detail, name="list_detail"),
    path("lists/<int:pk>/edit/", list_edit, name="list_edit"),
    path("lists/<int:pk>/delete/", list_delete, name="list_delete"),
    path("batch/new/", batch_new, name="batch_new"),
    path("batch/<int:pk>/", batch_detail, name="batch_detail"),
]
