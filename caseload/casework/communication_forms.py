"""The communication form: it only parses; ``communications.record_communication`` checks the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from caseload.casework import communications
from caseload.casework.models import Communication
from caseload.clients.models import Client
from caseload.tenancy.models import Program


class CommunicationForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Type"), choices=[("", gettext_lazy("Choose a type")), *Communication.Kind.choices]
    )
    direction = forms.ChoiceField(
        label=gettext_lazy("Direction"),
        choices=Communication.Direction.choices,
        initial=Communication.Direction.OUTGOING,
        widget=forms.RadioSelect,
    )
    date = forms.DateField(
        label=gettext_lazy("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("The day of the contact. For a reminder: the day it is sent (today or later)."),
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200, required=False)
    body = forms.CharField(
        label=gettext_lazy("Details"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    program = forms.ModelChoiceField(
        label=gettext_lazy("Program"), queryset=Program.objects.none(), required=False, empty_label=gettext_lazy("No program")
    )

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        self.client = client
        super().__init__(*args, **kwargs)
        if not self.is_bound and "date" not in self.initial:
            self.initial["date"] = communications.agency_today(client.agency)
        programs = Program.objects.for_agency(client.agency).filter(is_active=True)
        current = self.initial.get("program")
        if current is not None:
            programs = Program.objects.for_agency(client.agency).filter(pk=getattr(current, "pk", current)) | programs
        self.fields["program"].queryset = programs.order_by("name")
        refusal = communications.reminder_refusal(client)
        if refusal:
            # Said up front, under the Type field; the action refuses a reminder with the same words.
            self.fields["kind"].help_text = format_html('<span class="comm-kind-note">{}</span>', refusal)
        else:
            channel = communications.reminder_channel(client)
            if channel == communications.EMAIL:
                note = _("A reminder goes to the client on its date: in their portal and by email.")
            elif channel == communications.SMS:
                note = _("A reminder goes to the client on its date: in their portal and by text message.")
            else:
                note = _("A reminder goes to the client on its date, in their portal only (no email or text message consent).")
            self.fields["kind"].help_text = format_html("{}", note)

    def data_for_action(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in communications.FIELDS}


def initial_for(communication: Communication) -> dict[str, Any]:
    return {name: getattr(communication, name) for name in communications.FIELDS}
