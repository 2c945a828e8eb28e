"""The "Send survey" form: the channel (only those the client agreed to and has an address for),
and the message's subject and body with their placeholders, as the worker edited them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.outcomes import surveys


class SendSurveyForm(forms.Form):
    channel = forms.ChoiceField(label=_("Send by"), widget=forms.HiddenInput)
    subject = forms.CharField(label=_("Subject"), max_length=250, required=False)
    body = forms.CharField(
        label=_("Message"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 9}),
        help_text=_("Placeholders: {preferred_name}, {checkpoint}, {due_date}, {link} (required) and {agency}."),
    )

    def __init__(self, *args: Any, client, channel: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if channel == surveys.SMS:
            del self.fields["subject"]  # a text message has no subject
        self.channel_rows = surveys.channels(client)
        self.fields["channel"].choices = [
            (row["value"], f"{row['label']} · {row['address']}") for row in self.channel_rows if row["available"]
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("channel") == surveys.EMAIL and "subject" in self.fields and not (data.get("subject") or "").strip():
            self.add_error("subject", _("Enter a subject."))
        return data
