"""The task form: what staff fill in to create or change a task.

Choices come from the request's agency only, so another agency's staff member or program is an
invalid choice naming the field. The form only parses: ``task_data()`` gives the action
(``caseload.casework.tasks``) its ``data``, and the action checks the rules.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.casework.models import Task
from caseload.casework.tasks import MAX_REMIND_DAYS, staff_name
from caseload.clients.models import Client
from caseload.tenancy.models import Agency, Membership, Program

FOR_CLIENT = "client"


class TaskForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Details"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    client_number = forms.IntegerField(
        label=_("Client number"),
        required=False,
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("Leave blank for a task that is about no client."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    assigned_to = forms.ChoiceField(label=_("Assign to"), required=False)
    due_on = forms.DateField(
        label=_("Due date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    priority = forms.ChoiceField(label=_("Priority"), choices=Task.Priority.choices, initial=Task.Priority.NORMAL)
    remind_days_before = forms.IntegerField(
        label=_("Email reminder"),
        required=False,
        min_value=0,
        max_value=MAX_REMIND_DAYS,
        initial=1,
        help_text=_("Days before the due date (0: on the day). Leave blank for no reminder."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )

    def __init__(
        self,
        *args: Any,
        agency: Agency,
        membership: Membership | None,
        client: Client | None = None,
        choose_client: bool = False,
        task: Task | None = None,
        **kwargs: Any,
    ) -> None:
        """``client``: the task is about this client (fixed, or the pre-filled choice when
        ``choose_client``); ``choose_client``: the form asks for a client number."""
        self.agency, self.membership, self.client, self.task = agency, membership, client, task
        if task is not None:
            kwargs.setdefault("initial", {}).update(_initial(task, membership))
        elif client is not None and choose_client:
            kwargs.setdefault("initial", {}).update({"client_number": client.client_number})
        super().__init__(*args, **kwargs)
        if not choose_client:
            del self.fields["client_number"]
        self.fields["program"].queryset = Program.objects.for_agency(agency).filter(is_active=True).order_by("name")
        staff = (
            Membership.objects.for_agency(agency)
            .filter(is_active=True)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )
        if task is not None and task.assigned_to is not None and not task.assigned_to.is_active:
            staff = list(staff) + [task.assigned_to]  # someone who left keeps the task until it is reassigned
        choices: list[tuple[str, str]] = [("", _("Me"))]
        choices += [(str(m.pk), staff_name(m)) for m in staff if membership is None or m.pk != membership.pk]
        if choose_client or client is not None:
            choices.append((FOR_CLIENT, _("The client (in their portal)")))
        self.fields["assigned_to"].choices = choices
        if client is not None and not choose_client and client.portal_user_id is None:
            help_text = _("The client has no portal account yet: invite them to the portal before giving them a task.")
        elif choose_client or client is not None:
            help_text = _("A task for the client shows in their portal: they need a portal account.")
        else:
            help_text = _("Yourself, or another staff member of your agency.")
        self.fields["assigned_to"].help_text = help_text
        self._staff = {str(m.pk): m for m in staff}

    def clean_client_number(self) -> Client | None:
        number = self.cleaned_data.get("client_number")
        if number is None:
            return None
        found = Client.objects.for_agency(self.agency).filter(client_number=number).exclude(status=Client.Status.MERGED).first()
        if found is None:
            raise forms.ValidationError(_("No client of your agency has this number."), code="invalid")
        return found

    def chosen_client(self) -> Client | None:
        if "client_number" in self.fields:
            return self.cleaned_data.get("client_number")
        return self.client

    def task_data(self) -> dict[str, Any]:
        """The action's ``data``: ``assigned_to`` a Membership (None: me, unless for the client)."""
        data = {
            name: self.cleaned_data.get(name)
            for name in ("title", "description", "due_on", "priority", "remind_days_before", "program")
        }
        choice = self.cleaned_data.get("assigned_to") or ""
        data["for_client"] = choice == FOR_CLIENT
        if choice == FOR_CLIENT:
            data["assigned_to"] = None
        elif choice:
            data["assigned_to"] = self._staff[choice]
        else:
            data["assigned_to"] = self.membership
        return data


def _initial(task: Task, membership: Membership | None) -> dict[str, Any]:
    if task.for_client:
        assignee = FOR_CLIENT
    elif task.assigned_to_id is None or (membership is not None and task.assigned_to_id == membership.pk):
        assignee = ""
    else:
        assignee = str(task.assigned_to_id)
    return {
        "title": task.title,
        "description": task.description,
        "due_on": task.due_on,
        "priority": task.priority,
        "remind_days_before": task.remind_days_before,
        "program": task.program_id,
        "assigned_to": assignee,
    }
