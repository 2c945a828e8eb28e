"""Task pages: My Tasks, the client's Tasks & referrals tab, and a task's form and buttons.

Reading needs ``casework.view``, writing ``casework.change``. Tasks come from the request's agency
only (404 outside it) and, when they are about no client, only for the people they concern
(``tasks.visible_tasks_q``). The quick buttons (Mark done, Reopen) are plain POST forms that
htmx upgrades to swap just the task's row; without JavaScript they redirect back.

The client tab also shows the client's service referrals when the referrals topic provides them:
``casework/_client_referrals.html`` (included only if it exists) with the context of
``caseload.casework.referrals.client_referrals_context(request, client)`` (called only if it is
importable). That is the whole coupling between the two topics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from caseload.audit.actions import Action, record
from caseload.casework import tasks as actions
from caseload.casework.models import Task
from caseload.casework.pages import client_for, is_merged, refuse_merged
from caseload.casework.task_forms import TaskForm
from caseload.clients.models import Client
from caseload.clients.views import client_frame
from caseload.tenancy.access import get_for_agency, has_perm, perm_required
from caseload.tenancy.models import Membership
from caseload.web.forms import add_errors

VIEW, CHANGE = "casework.view", "casework.change"
DONE_PAGE_SIZE = 50
# The most open tasks one list shows (a narrower filter shows the rest).
OPEN_LIMIT = 500
CLIENT_REFERRALS_TEMPLATE = "casework/_client_referrals.html"

SCOPES = {
    "mine": gettext_lazy("Assigned to me"),
    "by_me": gettext_lazy("Assigned by me"),
    "team": gettext_lazy("My team"),
}
SHOWS = {"open": gettext_lazy("To do"), "done": gettext_lazy("Done")}
GROUPS = [
    ("overdue", gettext_lazy("Overdue")),
    ("today", gettext_lazy("Due today")),
    ("upcoming", gettext_lazy("Upcoming")),
    ("undated", gettext_lazy("No due date")),
]
PRIORITY_BADGES = {
    Task.Priority.LOW: "badge-neutral",
    Task.Priority.NORMAL: "badge-outline",
    Task.Priority.HIGH: "badge-warning",
    Task.Priority.URGENT: "badge-danger",
}
STATUS_BADGES = {
    Task.Status.OPEN: "badge-info",
    Task.Status.IN_PROGRESS: "badge-accent",
    Task.Status.DONE: "badge-success",
    Task.Status.CANCELLED: "badge-neutral",
}


# --- Reading ------------------------------------------------------------------------------------


def visible_tasks(request: HttpRequest) -> QuerySet[Task]:
    """The request's agency's tasks this staff member may see (never deleted ones)."""
    return (
        Task.objects.for_agency(request.agency)
        .filter(deleted_at__isnull=True)
        .filter(actions.visible_tasks_q(request.membership))
    )


def get_task(request: HttpRequest, pk: int) -> Task:
    task = get_for_agency(request, visible_tasks(request).select_related(*actions.RELATED), pk=pk)
    return task


def manages_anyone(membership: Membership) -> bool:
    return Membership.objects.for_agency(membership.agency).filter(manager=membership, is_active=True).exists()


@dataclass
class TaskRow:
    """One task, ready to show: when it is due, in words and as a badge."""

    task: Task
    group: str
    overdue_days: int
    due_in_days: int | None

    @property
    def priority_badge(self) -> str:
        return PRIORITY_BADGES.get(self.task.priority, "badge-neutral")

    @property
    def status_badge(self) -> str:
        return STATUS_BADGES.get(self.task.status, "badge-neutral")

    @property
    def assignee(self) -> str:
        if self.task.for_client:
            return _("The client")
        return actions.staff_name(self.task.assigned_to) or _("Nobody")


def task_row(task: Task, today) -> TaskRow:
    if task.due_on is None:
        return TaskRow(task, "undated", 0, None)
    days = (task.due_on - today).days
    if not task.is_open:
        return TaskRow(task, "done", 0, days)
    if days < 0:
        return TaskRow(task, "overdue", -days, days)
    return TaskRow(task, "today" if days == 0 else "upcoming", 0, days)


def _choice(request: HttpRequest, name: str, allowed: dict[str, Any], default: str) -> str:
    value = request.GET.get(name, default)
    return value if value in allowed else default


@perm_required(VIEW)
def my_tasks(request: HttpRequest) -> HttpResponse:
    membership = request.membership
    today = actions.agency_today(request.agency)
    is_manager = manages_anyone(membership)
    scopes = {key: label for key, label in SCOPES.items() if key != "team" or is_manager}
    scope = _choice(request, "scope", scopes, "mine")
    show = _choice(request, "show", SHOWS, "open")
    tasks = visible_tasks(request).select_related(*actions.RELATED)
    if scope == "mine":
        tasks = tasks.filter(assigned_to=membership)
    elif scope == "by_me":
        tasks = tasks.filter(created_by=membership).exclude(assigned_to=membership)
    else:
        tasks = tasks.filter(Q(assigned_to__manager=membership) & Q(assigned_to__is_active=True))
    context: dict[str, Any] = {
        "scopes": [{"key": key, "label": label, "current": key == scope} for key, label in scopes.items()],
        "shows": [{"key": key, "label": label, "current": key == show} for key, label in SHOWS.items()],
        "scope": scope,
        "show": show,
        "today": today,
        "show_assignee": scope != "mine",
        "can_change": has_perm(request, CHANGE),
        "next_url": request.get_full_path(),
    }
    if show == "open":
        rows = [
            task_row(task, today)
            for task in tasks.filter(status__in=actions.OPEN_STATUSES).order_by(*actions.due_order(today))[: OPEN_LIMIT + 1]
        ]
        context["limited"] = len(rows) > OPEN_LIMIT
        rows = rows[:OPEN_LIMIT]
        context["groups"] = [
            {"key": key, "label": label, "rows": [row for row in rows if row.group == key]} for key, label in GROUPS
        ]
        context["count"] = len(rows)
        context["overdue_count"] = sum(row.group == "overdue" for row in rows)
    else:
        done = tasks.exclude(status__in=actions.OPEN_STATUSES).order_by("-completed_at", "-updated_at", "-pk")
        page = Paginator(done, DONE_PAGE_SIZE).get_page(request.GET.get("page"))
        context["page"] = page
        context["done_rows"] = [task_row(task, today) for task in page.object_list]
        context["count"] = page.paginator.count
    return render(request, "casework/my_tasks.html", context)


def client_referrals(request: HttpRequest, client: Client) -> dict[str, Any]:
    """The Referrals section of the client's tab, when the referrals topic provides it (see the module docstring)."""
    try:
        get_template(CLIENT_REFERRALS_TEMPLATE)
    except TemplateDoesNotExist:
        return {"client_referrals_template": None}
    context: dict[str, Any] = {"client_referrals_template": CLIENT_REFERRALS_TEMPLATE}
    try:
        from caseload.casework.referrals import client_referrals_context
    except ImportError:
        return context
    return {**context, **client_referrals_context(request, client)}


@perm_required(VIEW)
def client_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    record(agency=request.agency, actor=request.user, action=Action.VIEW, obj=client, client_id=client.pk)
    today = actions.agency_today(request.agency)
    tasks = visible_tasks(request).filter(client=client).select_related(*actions.RELATED)
    open_rows = [
        task_row(task, today) for task in tasks.filter(status__in=actions.OPEN_STATUSES).order_by(*actions.due_order(today))
    ]
    closed = tasks.exclude(status__in=actions.OPEN_STATUSES).order_by("-completed_at", "-updated_at", "-pk")
    page = Paginator(closed, DONE_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        **client_frame(request, client, "tasks"),
        "open_rows": open_rows,
        "done_rows": [task_row(task, today) for task in page.object_list],
        "page": page,
        "today": today,
        "can_change": has_perm(request, CHANGE) and not is_merged(client),
        "next_url": request.get_full_path(),
        **client_referrals(request, client),
    }
    return render(request, "casework/client_tasks.html", context)


# --- Writing ------------------------------------------------------------------------------------


def _next_url(request: HttpRequest, default: str) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return wanted
    return default


def _home_of(task: Task) -> str:
    return reverse("casework:client_tasks", args=[task.client_id]) if task.client_id else reverse("casework:my_tasks")


def _form_page(
    request: HttpRequest,
    form: TaskForm,
    *,
    title: str,
    submit: str,
    client: Client | None,
    cancel_url: str,
    task: Task | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "form": form,
        "title": title,
        "submit_label": submit,
        "cancel_url": cancel_url,
        "task": task,
        "next_url": _next_url(request, ""),
        "can_change": has_perm(request, CHANGE),
    }
    if client is not None:
        context.update(client_frame(request, client, "tasks"))
        return render(request, "casework/task_form_client.html", context, status=status)
    return render(request, "casework/task_form.html", context, status=status)


def _create(request: HttpRequest, *, client: Client | None, choose_client: bool) -> HttpResponse:
    form = TaskForm(
        request.POST if request.method == "POST" else None,
        agency=request.agency,
        membership=request.membership,
        client=client,
        choose_client=choose_client,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            about = form.chosen_client()
            try:
                task = actions.create_task(request.agency, request.user, form.task_data(), client=about)
            except ValidationError as error:
                add_errors(form, error, renamed={"client": "client_number", "for_client": "assigned_to"})
            else:
                messages.success(request, _("Task “%(title)s” created.") % {"title": task.title})
                return redirect(_next_url(request, _home_of(task)))
        status = 400
    frame_client = None if choose_client else client
    cancel = reverse("casework:client_tasks", args=[client.pk]) if client is not None else reverse("casework:my_tasks")
    return _form_page(
        request,
        form,
        title=_("New task"),
        submit=_("Create task"),
        client=frame_client,
        cancel_url=_next_url(request, cancel),
        status=status,
    )


@perm_required(CHANGE)
def task_new(request: HttpRequest) -> HttpResponse:
    client = None
    wanted = request.GET.get("client", "")
    if wanted.isdigit():
        client = Client.objects.for_agency(request.agency).filter(pk=int(wanted)).exclude(status=Client.Status.MERGED).first()
    return _create(request, client=client, choose_client=True)


@perm_required(CHANGE)
def client_task_new(request: HttpRequest, pk: int) -> HttpResponse:
    client = client_for(request, pk)
    if is_merged(client):
        return refuse_merged(request, client, _("This profile was merged into another: add the task there."), "clients:detail")
    return _create(request, client=client, choose_client=False)


@perm_required(CHANGE)
def task_edit(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task(request, pk)
    form = TaskForm(
        request.POST if request.method == "POST" else None,
        agency=request.agency,
        membership=request.membership,
        client=task.client,
        task=task,
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.update_task(task, request.user, form.task_data())
            except ValidationError as error:
                add_errors(form, error, renamed={"client": "client_number", "for_client": "assigned_to"})
            else:
                messages.success(request, _("Task saved."))
                return redirect(_next_url(request, _home_of(task)))
        status = 400
    return _form_page(
        request,
        form,
        title=_("Edit task"),
        submit=_("Save"),
        client=task.client,
        cancel_url=_next_url(request, _home_of(task)),
        task=task,
        status=status,
    )


def _quick(request: HttpRequest, pk: int, action, done_message: str) -> HttpResponse:
    """A button's POST: run the action, then the task's row (htmx) or back where the user was."""
    task = get_task(request, pk)
    try:
        task = action(task, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        if request.htmx:
            return HttpResponse(status=204, headers={"HX-Refresh": "true"})
        return redirect(_next_url(request, _home_of(task)))
    if request.htmx:
        task = get_task(request, task.pk)
        context = {
            "row": task_row(task, actions.agency_today(request.agency)),
            "show_client": request.POST.get("show_client") == "1",
            "show_assignee": request.POST.get("show_assignee") == "1",
            "show_status": request.POST.get("show_status") == "1",
            "can_change": True,
            "next_url": _next_url(request, _home_of(task)),
            "announce": done_message % {"title": task.title},
        }
        return render(request, "casework/_task_row.html", context)
    messages.success(request, done_message % {"title": task.title})
    return redirect(_next_url(request, _home_of(task)))


@require_POST
@perm_required(CHANGE)
def task_complete(request: HttpRequest, pk: int) -> HttpResponse:
    return _quick(request, pk, actions.complete_task, _("“%(title)s” is done."))


@require_POST
@perm_required(CHANGE)
def task_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    return _quick(request, pk, actions.reopen_task, _("“%(title)s” is back on the to-do list."))


@require_POST
@perm_required(CHANGE)
def task_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _quick(request, pk, actions.cancel_task, _("“%(title)s” is cancelled."))


@perm_required(CHANGE)
def task_delete(request: HttpRequest, pk: int) -> HttpResponse:
    task = get_task(request, pk)
    back = _home_of(task)
    if request.method == "POST":
        actions.delete_task(task, request.user)
        messages.success(request, _("Task “%(title)s” deleted.") % {"title": task.title})
        return redirect(back)
    context: dict[str, Any] = {"task": task, "cancel_url": _next_url(request, reverse("casework:task_edit", args=[task.pk]))}
    if task.client is not None:
        context.update(client_frame(request, task.client, "tasks"))
        return render(request, "casework/task_delete_client.html", context)
    return render(request, "casework/task_delete.html", context)


urlpatterns = [
    path("tasks/", my_tasks, name="my_tasks"),
    path("tasks/new/", task_new, name="task_new"),
    path("tasks/<int:pk>/edit/", task_edit, name="task_edit"),
    path("tasks/<int:pk>/complete/", task_complete, name="task_complete"),
    path("tasks/<int:pk>/reopen/", task_reopen, name="task_reopen"),
    path("tasks/<int:pk>/cancel/", task_cancel, name="task_cancel"),
    path("tasks/<int:pk>/delete/", task_delete, name="task_delete"),
    path("clients/<int:pk>/tasks/", client_tasks, name="client_tasks"),
    path("clients/<int:pk>/tasks/new/", client_task_new, name="client_task_new"),
]
