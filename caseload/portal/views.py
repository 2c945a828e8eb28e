"""The client portal: a client's own open tasks and the reminders sent to them — nothing internal.

Case notes, other communications, safety flags, staff names and everything else staff record
never reach these pages: they read only ``Task`` rows given to the client (``for_client``) and
``Communication`` rows of kind reminder that were sent.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from caseload.casework.models import Communication, Task
from caseload.casework.tasks import complete_task
from caseload.clients.models import Client
from caseload.portal.access import portal_view

OPEN = (Task.Status.OPEN, Task.Status.IN_PROGRESS)
REMINDERS_SHOWN = 50


def client_tasks(client: Client):
    return (
        Task.objects.for_agency(client.agency)
        .filter(client=client, for_client=True, deleted_at__isnull=True)
        .only("pk", "title", "description", "due_on", "status", "client_id", "for_client", "deleted_at")
    )


@portal_view
def home(request: HttpRequest, client: Client) -> HttpResponse:
    merged = client.status == Client.Status.MERGED
    tasks, reminders = [], []
    if not merged:
        tasks = list(client_tasks(client).filter(status__in=OPEN).order_by(F("due_on").asc(nulls_last=True), "pk"))
        reminders = list(
            Communication.objects.for_agency(client.agency)
            .filter(client=client, kind=Communication.Kind.REMINDER, status=Communication.Status.SENT, deleted_at__isnull=True)
            .only("pk", "subject", "body", "date", "sent_at")
            .order_by(F("sent_at").desc(nulls_last=True), "-date", "-pk")[:REMINDERS_SHOWN]
        )
    context = {"client": client, "agency": client.agency, "tasks": tasks, "reminders": reminders, "merged": merged}
    return render(request, "portal/home.html", context)


@require_POST
@portal_view
def task_done(request: HttpRequest, client: Client, pk: int) -> HttpResponse:
    task = client_tasks(client).filter(pk=pk).first()
    if task is None:
        raise Http404
    task.client, task.agency = client, client.agency
    try:
        # The tasks action lets a client complete their own client task (and audits it as theirs).
        complete_task(task, request.user)
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Well done: “%(task)s” is marked done. Your caseworker will see it.") % {"task": task.title})
    return redirect("portal:home")
