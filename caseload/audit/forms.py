"""The audit log's filters: who, which client, what action, which kind of object, when."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from caseload.accounts.models import User
from caseload.audit.models import AuditEvent
from caseload.audit.queries import object_type_choices
from caseload.tenancy.models import Agency


class ActorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return f"{obj.full_name} ({obj.email})" if obj.full_name else obj.email


class AuditFilterForm(forms.Form):
    """Every choice comes from the request's agency: its staff, the kinds of object in its log."""

    actor = ActorChoiceField(label=_("User"), queryset=User.objects.none(), required=False, empty_label=_("Anyone"))
    client = forms.IntegerField(label=_("Client ID"), required=False, min_value=1)
    action = forms.ChoiceField(label=_("Action"), required=False)
    object_type = forms.ChoiceField(label=_("Object type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].queryset = User.objects.filter(memberships__agency=agency).distinct().order_by("full_name", "email")
        self.fields["action"].choices = [("", _("Any action")), *AuditEvent.Action.choices]
        self.fields["object_type"].choices = [("", _("Any type")), *object_type_choices(agency)]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return data

    def active_filters(self) -> dict[str, str]:
        """The filters in use, as the query string shows them (for the export link and the audit record)."""
        if not self.is_bound or not self.is_valid():
            return {}
        filters = {}
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            filters[name] = str(value.pk if isinstance(value, User) else value.isoformat() if hasattr(value, "isoformat") else value)
        return filters
