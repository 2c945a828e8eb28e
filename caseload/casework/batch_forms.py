"""The forms of a batch action: one per kind, each about no client in particular.

They only parse (choices come from the request's agency only); the per-record actions check the
rules for every client when the batch runs. ``data_for_action()`` gives the action its ``data``;
``summary()`` what the confirm step shows. The task form is the Tasks page's own, with "the
client" offered as the assignee (each client then sees the task in their portal).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from caseload.casework.models import BatchAction, CaseNote, Communication, Grant, SupportServiceType
from caseload.casework.task_forms import FOR_CLIENT, TaskForm
from caseload.tenancy.models import Agency, Membership, Program

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _programs(agency: Agency):
    return Program.objects.for_agency(agency).filter(agency=agency, is_active=True).order_by("name")


def _shown(field: forms.Field, value: Any) -> str:
    """A cleaned value as the confirm step shows it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(field, forms.ChoiceField) and not isinstance(field, forms.ModelChoiceField):
        return str(dict(field.choices).get(value, value))
    if hasattr(value, "isoformat"):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


class BatchFormMixin:
    """What the batch pages ask of every kind's form."""

    kind: str
    # Fields whose text shows in a block of its own on the confirm step.
    long_fields: tuple[str, ...] = ()
    # Of those, the ones written in Markdown (shown rendered and sanitised).
    markdown_fields: tuple[str, ...] = ()

    def data_for_action(self) -> dict[str, Any]:
        return dict(self.cleaned_data)  # type: ignore[attr-defined]

    def summary(self) -> list[dict[str, Any]]:
        rows = []
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            value = self.cleaned_data.get(name)  # type: ignore[attr-defined]
            rows.append(
                {
                    "label": field.label,
                    "value": value if name in self.long_fields else _shown(field, value),
                    "long": name in self.long_fields,
                    "markdown": name in self.markdown_fields,
                }
            )
        return rows


class NoteBatchForm(BatchFormMixin, forms.Form):
    kind = BatchAction.Kind.NOTE
    long_fields = ("body",)
    markdown_fields = ("body",)

    note_type = forms.ChoiceField(label=_("Type"), choices=CaseNote.Type.choices, initial=CaseNote.Type.GENERAL)
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )
    contact_date = forms.DateField(label=_("Date of contact"), widget=DATE_WIDGET)
    body = forms.CharField(
        label=_("Note"),
        max_length=50_000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("Markdown: **bold**, *italic*, lists and links. The same note is written on every client's case."),
    )
    is_private = forms.BooleanField(
        label=_("Private"), required=False, help_text=_("Only you and your manager will see these notes.")
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=CaseNote.Status.choices, initial=CaseNote.Status.FINAL, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, agency: Agency, membership: Membership | None, today, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = _programs(agency)
        self.fields["contact_date"].initial = today


class CommunicationBatchForm(BatchFormMixin, forms.Form):
    kind = BatchAction.Kind.COMMUNICATION
    long_fields = ("body",)

    communication_kind = forms.ChoiceField(
        label=_("Type"),
        choices=[("", _("Choose a type")), *Communication.Kind.choices],
        help_text=_(
            "A reminder goes to each client on its date, in their portal and by their preferred channel: every client needs a portal account they have logged in to."
        ),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=Communication.Direction.choices,
        initial=Communication.Direction.OUTGOING,
        widget=forms.RadioSelect,
    )
    date = forms.DateField(
        label=_("Date"),
        widget=DATE_WIDGET,
        help_text=_("The day of the contact. For a reminder: the day it is sent (today or later)."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_("Details"), required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 6}))
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )

    def __init__(self, *args: Any, agency: Agency, membership: Membership | None, today, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = _programs(agency)
        self.fields["date"].initial = today

    def data_for_action(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["kind"] = data.pop("communication_kind")
        return data


class TaskBatchForm(BatchFormMixin, TaskForm):
    kind = BatchAction.Kind.TASK
    long_fields = ("description",)

    def __init__(self, *args: Any, agency: Agency, membership: Membership | None, today, **kwargs: Any) -> None:
        super().__init__(*args, agency=agency, membership=membership, **kwargs)
        field = self.fields["assigned_to"]
        field.choices = [*field.choices, (FOR_CLIENT, _("Each client (in their portal)"))]
        field.help_text = _(
            "Yourself, another staff member (one task per client, all theirs), or each client: they see it in their portal and need a portal account."
        )

    def data_for_action(self) -> dict[str, Any]:
        return self.task_data()

    def summary(self) -> list[dict[str, Any]]:
        rows = super().summary()
        for row in rows:
            if row["label"] == self.fields["assigned_to"].label:
                row["value"] = str(dict(self.fields["assigned_to"].choices).get(self.cleaned_data.get("assigned_to") or "", "—"))
        return rows


class ServiceBatchForm(BatchFormMixin, forms.Form):
    kind = BatchAction.Kind.SERVICE
    long_fields = ("justification",)

    service_type = forms.ModelChoiceField(
        label=_("Service"), queryset=SupportServiceType.objects.none(), empty_label=_("Choose a service")
    )
    date = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    amount = forms.DecimalField(
        label=_("Amount (each client)"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    vendor = forms.CharField(label=_("Vendor"), max_length=200, required=False)
    grant = forms.ModelChoiceField(label=_("Grant"), queryset=Grant.objects.none(), required=False, empty_label=_("No grant"))
    program = forms.ModelChoiceField(
        label=_("Program"), queryset=Program.objects.none(), required=False, empty_label=_("No program")
    )
    justification = forms.CharField(
        label=_("Justification"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    approve_overspend = forms.BooleanField(
        label=_("Approve spending beyond the grant's budget"),
        required=False,
        help_text=_("As a manager: the batch may take the grant past its budget."),
    )

    def __init__(self, *args: Any, agency: Agency, membership: Membership | None, today, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_type"].queryset = (
            SupportServiceType.objects.for_agency(agency).filter(agency=agency, is_active=True).order_by("name")
        )
        self.fields["program"].queryset = _programs(agency)
        self.fields["date"].initial = today
        if agency.grants_management:
            self.fields["grant"].queryset = (
                Grant.objects.for_agency(agency).filter(agency=agency, is_active=True).order_by("name")
            )
        else:
            del self.fields["grant"]
        if not agency.grants_management or membership is None or not membership.has_perm("casework.approve_overspend"):
            del self.fields["approve_overspend"]

    def data_for_action(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.setdefault("grant", None)
        data.setdefault("approve_overspend", False)
        return data


FORMS: dict[str, type[forms.Form]] = {
    BatchAction.Kind.NOTE: NoteBatchForm,
    BatchAction.Kind.COMMUNICATION: CommunicationBatchForm,
    BatchAction.Kind.TASK: TaskBatchForm,
    BatchAction.Kind.SERVICE: ServiceBatchForm,
}


def batch_form(kind: str, data=None, *, agency: Agency, membership: Membership | None, today) -> forms.Form:
    """The form for ``kind`` (a BatchAction.Kind value), bound to ``data`` when given."""
    return FORMS[kind](data, agency=agency, membership=membership, today=today, prefix="data")
